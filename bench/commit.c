/*
 * commit.c — an anchor of the benchmark: the machine's single-writer
 * SQLite commit rate.  Opens a database in WAL mode with synchronous=FULL
 * (keywarden's settings) in DIR and, for SECONDS, commits one row of
 * about ROW_BYTES bytes per transaction (BEGIN IMMEDIATE; INSERT; COMMIT,
 * as keywarden does).  Prints one JSON line:
 *   {"commits":N,"seconds":S,"commits_per_s":R,"p50_us":..,"p99_us":..}
 *
 * With "wide" as 4th argument each transaction has the write shape of
 * keywarden's request creation instead: a row in a table with
 * AUTOINCREMENT, a unique random text id and three secondary indexes, a
 * history row (indexed by that id) and an audit row; about ten pages
 * dirtied per commit instead of one or two.  A diagnostic, not the anchor.
 *
 * usage: bench-commit DIR SECONDS [ROW_BYTES [wide]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static const char wide_schema[] =
    "CREATE TABLE IF NOT EXISTS r (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, inst TEXT NOT NULL,"
    " state TEXT NOT NULL, expires TEXT NOT NULL, body TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS r_owner ON r(owner);"
    "CREATE INDEX IF NOT EXISTS r_inst ON r(inst, state);"
    "CREATE INDEX IF NOT EXISTS r_state ON r(state, expires);"
    "CREATE TABLE IF NOT EXISTS h (seq INTEGER PRIMARY KEY,"
    " rid TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS h_rid ON h(rid, seq);"
    "CREATE TABLE IF NOT EXISTS a (seq INTEGER PRIMARY KEY,"
    " details TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);";

#define LAT_MAX	(1u << 22)	/* commit latencies kept (4M) */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench-commit: %s: %s\n", sql,
		    err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	sqlite3		*db;
	sqlite3_stmt	*ins, *begin, *commit, *ins_h = NULL, *ins_a = NULL;
	char		 path[4096], row[4096];
	uint32_t	*lat;
	double		 seconds, t0, t1, end, dt;
	size_t		 rowlen = 300, i, n = 0;
	int		 wide = 0;
	char		 rid[32], when[32];

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: bench-commit DIR SECONDS [ROW_BYTES "
		    "[wide]]\n");
		return 2;
	}
	seconds = atof(argv[2]);
	if (argc >= 4)
		rowlen = (size_t)atoi(argv[3]);
	if (argc == 5)
		wide = strcmp(argv[4], "wide") == 0;
	if (rowlen == 0 || rowlen >= sizeof(row) || seconds <= 0) {
		fprintf(stderr, "bench-commit: bad arguments\n");
		return 2;
	}
	for (i = 0; i < rowlen; i++)
		row[i] = (char)('a' + (i * 7) % 26);
	row[rowlen] = '\0';
	snprintf(path, sizeof(path), "%s/commit%s.db", argv[1],
	    wide ? "-wide" : "");
	if ((lat = malloc(LAT_MAX * sizeof(*lat))) == NULL)
		return 1;
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "bench-commit: cannot open %s\n", path);
		return 1;
	}
	if (exec(db, "PRAGMA journal_mode=WAL") != 0 ||
	    exec(db, "PRAGMA synchronous=FULL") != 0 ||
	    exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY,"
	    " at INTEGER NOT NULL, body TEXT NOT NULL)") != 0)
		return 1;
	if (wide && (exec(db, wide_schema) != 0 ||
	    sqlite3_prepare_v2(db, "INSERT INTO h (rid, at, actor) VALUES"
	    " (?1, ?2, 'rick@example.com')", -1, &ins_h, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO a (details, prev, hash) VALUES"
	    " (?1, ?2, ?2)", -1, &ins_a, NULL) != SQLITE_OK)) {
		fprintf(stderr, "bench-commit: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	if (sqlite3_prepare_v2(db, wide ? "INSERT INTO r (id, owner, inst,"
	    " state, expires, body) VALUES (?3, 'per_rick', 'ins_bench',"
	    " 'pending_manager', ?4, ?2)" :
	    "INSERT INTO t (at, body) VALUES (?1, ?2)",
	    -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench-commit: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	t0 = now_s();
	end = t0 + seconds;
	do {
		t1 = now_s();
		if (sqlite3_step(begin) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(begin);
		if (wide) {
			/* a random id, like keywarden's req_<24 hex> */
			snprintf(rid, sizeof(rid), "req_%08x%08x%08x",
			    (unsigned)random(), (unsigned)random(),
			    (unsigned)random());
			snprintf(when, sizeof(when), "2026-12-%02zuT%02zu:%02zu:"
			    "%02zuZ", 1 + n / 86400 % 28, n / 3600 % 24,
			    n / 60 % 60, n % 60);
			sqlite3_bind_text(ins, 3, rid, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, when, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_h, 1, rid, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_h, 2, when, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_a, 1, row, (int)rowlen / 2,
			    SQLITE_STATIC);
			sqlite3_bind_text(ins_a, 2, row, 64, SQLITE_STATIC);
			if (sqlite3_step(ins_h) != SQLITE_DONE ||
			    sqlite3_step(ins_a) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(ins_h);
			sqlite3_reset(ins_a);
		} else
			sqlite3_bind_int64(ins, 1, (sqlite3_int64)n);
		sqlite3_bind_text(ins, 2, row, (int)rowlen, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(ins);
		if (sqlite3_step(commit) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(commit);
		dt = now_s() - t1;
		if (n < LAT_MAX)
			lat[n] = (uint32_t)(dt * 1e6);
		n++;
	} while (t1 + dt < end);
	dt = now_s() - t0;
	if (n > LAT_MAX)
		n = LAT_MAX;
	qsort(lat, n, sizeof(*lat), cmp_u32);
	printf("{\"commits\":%zu,\"seconds\":%.3f,\"commits_per_s\":%.1f,"
	    "\"p50_us\":%u,\"p99_us\":%u,\"row_bytes\":%zu,\"wide\":%s}\n",
	    n, dt, (double)n / dt, lat[n / 2], lat[(n * 99) / 100], rowlen,
	    wide ? "true" : "false");
	sqlite3_finalize(ins_h);
	sqlite3_finalize(ins_a);
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	free(lat);
	return 0;
 fail:
	fprintf(stderr, "bench-commit: %s\n", sqlite3_errmsg(db));
	return 1;
}
