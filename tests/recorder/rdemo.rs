// rdemo — a Rust program for tests/recorder/test_symbols.sh: its heap
// blocks come from build_map (never inlined) through std's allocator, so a
// report names Rust functions of the program and of std. Built twice, with
// symbol-mangling-version v0 (rustc's std already uses it) and legacy
// (hashes "::h0123456789abcdef" that a demangler drops).
use std::collections::HashMap;

#[inline(never)]
fn build_map(n: usize) -> HashMap<String, Vec<u64>> {
    let mut m = HashMap::new();
    for i in 0..n {
        m.insert(format!("key{}", i), vec![i as u64; 8]);
    }
    m
}

fn main() {
    let m = build_map(2000);
    println!("{}", m.len());
}
