#!/bin/sh
# gen_sql.sh > big.sql : the sqlite3 script of bench/real.sh and
# bench/convert.sh (a table of 20000 rows inserted in one transaction, an
# index, two queries): ~0.9 M heap events under `msrec run`.
awk 'BEGIN {
    print "create table t(id integer primary key, name text, v real);"
    print "begin;"
    for (i = 0; i < 20000; i++) printf "insert into t(name, v) values(%cname%d%c, %d.5);\n", 39, i, 39, (i * 7) % 1000
    print "commit;"
    print "create index ti on t(name);"
    print "select count(*), sum(v), max(name) from t where v > 100;"
    print "select name from t order by v desc, id limit 5;"
}'
