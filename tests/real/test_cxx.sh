#!/bin/sh
# Real programs: a C++ program (std::map, std::unordered_map, std::string,
# std::vector, unique_ptr; built here with g++ -O1) under `msrec run`: the
# same stdout and exit status; allocs, frees, bytes, blocks in use at exit
# and every leak class equal valgrind memcheck's (a global map is still
# reachable, a lost Node is definite and the Node and strings it owns are
# indirect; libstdc++'s emergency EH pool and stdout's buffer are reachable).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=real/cxx
need $T g++ valgrind

cd "$TMP" || exit 1
cat > cx.cc <<'EOF'
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
struct Rec { std::string name; std::vector<int> vals; };
struct Node { Node *next; std::string s; };
std::map<std::string, int> *kept;   // reachable at exit (not static: the store must stay)
int main() {
    std::map<std::string, Rec> m;
    std::unordered_map<int, std::string> u;
    for (int i = 0; i < 20000; i++) {
        std::string k = "key-" + std::to_string(i * 7919 % 20000) + std::string(i % 40, 'x');
        Rec &r = m[k];
        r.name = k + "/name";
        for (int j = 0; j < i % 13; j++) r.vals.push_back(i * j);
        u[i] = k.substr(0, 10 + i % 20);
        if (i % 3 == 0) m.erase(m.begin());
    }
    std::vector<std::unique_ptr<std::string>> v;
    for (int i = 0; i < 5000; i++) v.emplace_back(new std::string(100 + i % 50, 'a' + i % 26));
    v.erase(v.begin() + 100, v.begin() + 2600);
    long t = 0;
    for (auto &e : m) t += (long)e.second.vals.size() + (long)e.first.size();
    for (auto &e : u) t += (long)e.second.size();
    kept = new std::map<std::string, int>{{"alpha-long-enough-to-allocate", 1}, {"beta", 2}};
    Node *lost = new Node{nullptr, std::string(64, 'L')};   // definite; its string indirect
    lost->next = new Node{nullptr, "short"};                 // indirect
    lost = nullptr;
    std::printf("%zu %zu %zu %ld\n", m.size(), u.size(), v.size(), t);
    return 0;
}
EOF
g++ -std=c++17 -O1 -g -o cx cx.cc || { fail $T/build "g++ failed"; exit 0; }
n=$T/maps
run_pair $n "$TMP/cx.d" -- ./cx
check $n/plain-run-ok 0 "$PRC"
check_pair $n
f=$TMP/cx.d/x.memscope
check_complete $n/complete "$f"
if check_json $n "$f"; then
    check $n/no-unmatched-frees 0 "$(sumval "$f.json" unmatched_frees)"
    vg_run $n -- ./cx
    vg_compare $n "$f.json"
fi
