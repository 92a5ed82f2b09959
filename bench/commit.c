/*
 * commit.c — an anchor of the benchmark: the machine's single-writer
 * SQLite commit rate.  Opens a database in WAL mode with synchronous=FULL
 * (keywarden's settings) in DIR and, for SECONDS, commits one row of
 * about ROW_BYTES bytes per transaction (BEGIN IMMEDIATE; INSERT; COMMIT,
 * as keywarden does).  Prints one JSON line:
 *   {"commits":N,"seconds":S,"commits_per_s":R,"p50_us":..,"p99_us":..}
 *
 * usage: bench-commit DIR SECONDS [ROW_BYTES]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

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
	sqlite3_stmt	*ins, *begin, *commit;
	char		 path[4096], row[4096];
	uint32_t	*lat;
	double		 seconds, t0, t1, end, dt;
	size_t		 rowlen = 300, i, n = 0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: bench-commit DIR SECONDS [ROW_BYTES]\n");
		return 2;
	}
	seconds = atof(argv[2]);
	if (argc == 4)
		rowlen = (size_t)atoi(argv[3]);
	if (rowlen == 0 || rowlen >= sizeof(row) || seconds <= 0) {
		fprintf(stderr, "bench-commit: bad arguments\n");
		return 2;
	}
	for (i = 0; i < rowlen; i++)
		row[i] = (char)('a' + (i * 7) % 26);
	row[rowlen] = '\0';
	snprintf(path, sizeof(path), "%s/commit.db", argv[1]);
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
	if (sqlite3_prepare_v2(db, "INSERT INTO t (at, body) VALUES (?1, ?2)",
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
	    "\"p50_us\":%u,\"p99_us\":%u,\"row_bytes\":%zu}\n", n, dt,
	    (double)n / dt, lat[n / 2], lat[(n * 99) / 100], rowlen);
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
