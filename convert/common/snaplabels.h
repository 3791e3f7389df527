/* Words of the snapshot reports shared by msconv (text, HTML) and msdiff
 * (Markdown): the rows of the memory breakdown (analyze/snapmem.h), so
 * every report names them identically in both languages. */
#ifndef MS_SNAPLABELS_H
#define MS_SNAPLABELS_H
#include "i18n.h"

/* Label of a breakdown row (SM_*). */
const char *ms_memrow_label(ms_lang l, int row);
/* Label of a group of rows (SMG_*). */
const char *ms_memgroup_label(ms_lang l, int group);
#endif
