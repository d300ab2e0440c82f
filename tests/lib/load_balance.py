"""Connects many times through one libpq multi-host connection string with
load_balance_hosts=random (libpq 16 and later), and runs the same kNN query
each time: prints which servers answered (primary or standby) and whether
every answer was the same. Exit status 0 when both kinds answered alike.

usage: load_balance.py CONNINFO QUERY [CONNECTIONS]
"""
import sys

import psycopg


def main():
    conninfo, query = sys.argv[1], sys.argv[2]
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    if psycopg.pq.version() < 160000:
        print(f"libpq {psycopg.pq.version()} has no load_balance_hosts (16 or later needed)")
        return 1
    answers, servers = set(), {"primary": 0, "standby": 0}
    for _ in range(connections):
        with psycopg.connect(conninfo) as conn:
            standby = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
            servers["standby" if standby else "primary"] += 1
            answers.add(tuple(row[0] for row in conn.execute(query).fetchall()))
    print(f"libpq {psycopg.pq.version()}: {connections} connections, primary {servers['primary']}, "
          f"standby {servers['standby']}, {len(answers)} distinct answers")
    return 0 if servers["primary"] and servers["standby"] and len(answers) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
