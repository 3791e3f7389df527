/* Linked with leakscan.c into a test shared object: its globals and its
 * static TLS stand for the recorder's own state, which msr_leak_classify
 * must not take as roots when it runs from a shared library. (Setters, so
 * the executable does not copy-relocate the variables into its own .bss.) */
static __thread void *volatile insp_dso_tls;
static void *volatile insp_dso_global;

void insp_dso_set_tls(void *p) { insp_dso_tls = p; }
void insp_dso_set_global(void *p) { insp_dso_global = p; }
