"""Pass/fail bookkeeping shared by the client and framework tests, printed as
the shell tests print it (tests/lib/check.sh), and their scratch databases."""
import psycopg

passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAILED: {what} {detail}")


def run(what, test):
    """Runs one client's test; an exception is a failure, not the end of the run."""
    try:
        test()
    except Exception as e:  # noqa: BLE001 - any failure of a client is reported and the rest go on
        check(f"{what}: ran without an exception", False, f"{type(e).__name__}: {e}")


def summary(name):
    """Prints the counts; the exit status for the run."""
    print(f"{name}: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def create_database(socket_dir, port, db):
    """A new, empty database `db` (dropped first if it exists)."""
    with psycopg.connect(f"host={socket_dir} port={port} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db}")
        conn.execute(f"CREATE DATABASE {db}")
