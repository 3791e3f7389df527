# Python workload of bench/convert.sh: ~14 M heap events from ~40 000
# distinct call stacks (deep interpreter recursion through ast, json,
# re, difflib, fractions, decimal and statistics), like the python3
# trace of the converter-speed issue (11.5 M events, many stacks).
import json, re, collections, email.parser, html.parser, difflib, textwrap, decimal, fractions, statistics, ast, inspect
src = inspect.getsource(difflib) + inspect.getsource(textwrap)
for k in range(6):
    tree = ast.parse(src)
    d = collections.Counter(type(n).__name__ for n in ast.walk(tree))
    s = json.dumps({str(i): [i, str(i) * 3, {"a": i}] for i in range(20000)})
    o = json.loads(s)
    words = re.findall(r"\w+", src)
    dl = list(difflib.unified_diff(src.splitlines()[:800], src.splitlines()[5:805]))
    fr = sum(fractions.Fraction(i, i + 1) for i in range(1, 2000))
    dec = sum(decimal.Decimal(i) / 7 for i in range(20000))
    st = statistics.mean(float(x) for x in range(50000))
print(len(d), len(o), len(words), len(dl))
