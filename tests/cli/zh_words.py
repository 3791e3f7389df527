# Finds English words in Chinese reports. Usage:
#   zh_words.py DUMP.jsonl [ALLOWED_WORD...] -- REPORT...
# A word is allowed when it is in the list, or occurs in any string of the
# trace's own records (msconv --dump: function, file, module and process
# names, labels, marks); hex numbers and absolute paths are skipped.
# Markdown escapes (\_) are removed first, and a word cut short by the
# report ("…") is skipped. Prints "word<TAB>file:line: text" per unknown
# word (first occurrence) and exits 1 when there is one.
import json, re, sys
args = sys.argv[1:]
dump = args[0]; i = args.index('--')
allow = set(w.lower() for w in args[1:i]); files = args[i+1:]
word = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
hexnum = re.compile(r'\b0x[0-9a-fA-F]+\b')
# absolute paths (the trace's, the test's random temporary directory) are names
path = re.compile(r'(?<![A-Za-z0-9_.])/[^\s|（）：，、。；]*')
# a word the report cut short ("…": a long command line) is no word of its own
cut = re.compile(r'[A-Za-z0-9_]+…')
def strings(o):
    if isinstance(o, str): yield o
    elif isinstance(o, dict):
        for v in o.values(): yield from strings(v)
    elif isinstance(o, list):
        for v in o: yield from strings(v)
for line in open(dump, errors='replace'):
    try: rec = json.loads(line)
    except ValueError: continue
    for s in strings(rec):
        allow.update(w.lower() for w in word.findall(s))
bad = {}
for f in files:
    for n, line in enumerate(open(f, errors='replace'), 1):
        for w in word.findall(path.sub(' ', hexnum.sub(' ', cut.sub(' ', line.replace('\\', ''))))):
            if w.lower() not in allow:
                bad.setdefault(w, '%s:%d: %s' % (f.split('/')[-1], n, line.strip()[:120]))
for w, where in sorted(bad.items()):
    print('%s\t%s' % (w, where))
sys.exit(1 if bad else 0)
