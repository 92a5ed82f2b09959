/*
 * backup.c — `keywarden backup` (an online, consistent copy of the store,
 * never the master key) and `keywarden restore` (put such a copy back,
 * after checking it is a keywarden store whose audit chain verifies,
 * keeping the replaced store aside).  A restore must not swap the store
 * under a running server: serve and jobs run hold a shared lock on the
 * data directory, a restore takes it exclusively.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "kw.h"
#include "backup.h"
#include "audit/audit.h"
#include "store/store.h"
#include "util/util.h"

#define EXIT_USAGE	2
#define STAGED_NAME	".restore-staged"	/* in the data directory */
#define COPY_CHUNK	65536

int
backup_lock_dir(const char *dir, int exclusive)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return KW_ERR_IO;
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
		close(fd);
		return errno == EWOULDBLOCK ? KW_ERR_CONFLICT : KW_ERR_IO;
	}
	return fd;
}

/* Parse --data-dir (default $KEYWARDEN_DATA_DIR), the file option named
 * fileopt, and --expect-head when head is not NULL.  0 or EXIT_USAGE. */
static int
parse_args(int argc, char **argv, const char *fileopt, const char **dir,
    const char **file, const char **head)
{
	const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ fileopt, required_argument, NULL, 'f' },
		{ "expect-head", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	*dir = getenv("KEYWARDEN_DATA_DIR");
	*file = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *dir = optarg; break;
		case 'f': *file = optarg; break;
		case 'e':
			if (head == NULL)
				return EXIT_USAGE;
			*head = optarg;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc || *dir == NULL || *file == NULL ||
	    **dir == '\0' || **file == '\0' || strlen(*dir) > KW_PATH_MAX ||
	    strlen(*file) > KW_PATH_MAX)
		return EXIT_USAGE;
	return 0;
}

int
backup_cmd(int argc, char **argv)
{
	const char	*dir, *to;
	struct store	*st = NULL;
	json_t		*out;
	char		 hash[KW_HASH_HEX_LEN + 1];
	int64_t		 seq;
	int		 r, saved;

	if (parse_args(argc, argv, "to", &dir, &to, NULL) != 0) {
		fprintf(stderr, "usage: keywarden %s\n", BACKUP_USAGE);
		return EXIT_USAGE;
	}
	/* a shared store is PostgreSQL's to back up */
	if (store_url_is_shared(getenv("KEYWARDEN_STORE"))) {
		fprintf(stderr, "keywarden: the store is a PostgreSQL database "
		    "(KEYWARDEN_STORE): back it up with pg_dump or a base "
		    "backup; keywarden backup copies a SQLite store\n");
		return 1;
	}
	if ((r = store_open(dir, 0, &st)) != 0) {
		fprintf(stderr, "keywarden: cannot open the store in %s: %s\n",
		    dir, r == KW_ERR_CONFIG ? "its schema is not this "
		    "binary's (run `keywarden serve --check` with the matching "
		    "binary)" : kw_strerror(r));
		return 1;
	}
	r = store_backup(st, to, &seq, hash);
	saved = errno;
	store_close(st);
	if (r != 0) {
		fprintf(stderr, "keywarden: backup to %s failed: %s\n", to,
		    r == KW_ERR_EXISTS ? "the file exists (backups never "
		    "overwrite)" : r == KW_ERR_IO ? strerror(saved) :
		    kw_strerror(r));
		return 1;
	}
	out = json_pack("{s:s, s:I, s:s}", "backup", to, "seq",
	    (json_int_t)seq, "hash", hash);
	json_dumpf(out, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(out);
	return 0;
}

/* Write all n bytes of buf to fd: 0 or -1. */
static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, buf, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy file from into a new file to (mode 0600), durably. */
static int
copy_file(const char *from, const char *to)
{
	char	 buf[COPY_CHUNK];
	ssize_t	 n;
	int	 in, outfd = -1, r = KW_ERR_IO;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1)
		return KW_ERR_NOT_FOUND;
	if ((outfd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(outfd, buf, (size_t)n) != 0)
			goto out;
	if (n == 0 && fsync(outfd) == 0)
		r = 0;
 out:
	close(in);
	if (outfd != -1 && close(outfd) != 0)
		r = KW_ERR_IO;
	return r;
}

/*
 * Check the store staged at path: a keywarden store this binary can
 * read (brought to the current schema, as serve would), whose audit
 * chain verifies (and holds expect_head when given).  Prints the verdict.
 */
static int
check_staged(const char *path, const char *from, const char *expect_head,
    struct audit_verdict *v)
{
	struct store	*st;
	int		 r;

	if ((r = store_open_file(path, STORE_EXISTING | STORE_MIGRATE,
	    &st)) != 0) {
		fprintf(stderr, "keywarden: %s is not a keywarden store this "
		    "binary can read (%s)\n", from, r == KW_ERR_CONFIG ?
		    "not a database, no keywarden schema, or a newer one" :
		    kw_strerror(r));
		return r;
	}
	r = audit_verify_head(st, expect_head, v);
	store_close(st);
	if (r != 0) {
		fprintf(stderr, "keywarden: reading the audit log of %s: %s\n",
		    from, kw_strerror(r));
		return r;
	}
	if (!v->ok || v->events == 0) {
		fprintf(stderr, "keywarden: %s: audit log BROKEN at event "
		    "%lld: %s\n", from, (long long)v->first_bad_seq,
		    v->events == 0 && v->ok ? "the log is empty" : v->reason);
		return KW_ERR_CONFLICT;
	}
	return 0;
}

int
restore_cmd(int argc, char **argv)
{
	struct audit_verdict	 v;
	struct stat		 sb;
	struct tm		 tm;
	const char		*dir, *from, *head = NULL;
	char			 staged[KW_PATH_MAX + 32], key[KW_PATH_MAX + 32];
	char			 suffix[64], aside[KW_PATH_MAX + 128];
	time_t			 now = time(NULL);
	int			 lock, r;

	if (parse_args(argc, argv, "from", &dir, &from, &head) != 0) {
		fprintf(stderr, "usage: keywarden %s\n", RESTORE_USAGE);
		return EXIT_USAGE;
	}
	if ((lock = backup_lock_dir(dir, 1)) < 0) {
		fprintf(stderr, "keywarden: %s\n", lock == KW_ERR_CONFLICT ?
		    "a keywarden server (or jobs run) is using this data "
		    "directory: stop it first; nothing was changed" :
		    "cannot open the data directory");
		return 1;
	}
	snprintf(key, sizeof(key), "%s/master.key", dir);
	snprintf(staged, sizeof(staged), "%s/%s", dir, STAGED_NAME);
	r = 1;
	if (stat(key, &sb) != 0) {
		fprintf(stderr, "keywarden: %s has no master.key: put the "
		    "data directory's master key back first (backups never "
		    "hold it); nothing was changed\n", dir);
		goto out;
	}
	/* a copy left by an interrupted restore is ours to replace */
	unlink(staged);
	if (copy_file(from, staged) != 0) {
		fprintf(stderr, "keywarden: cannot copy %s into %s: %s\n",
		    from, dir, strerror(errno));
		goto out_staged;
	}
	/* root restoring for the service user: the store stays theirs */
	if (geteuid() == 0 && stat(dir, &sb) == 0 &&
	    chown(staged, sb.st_uid, sb.st_gid) != 0) {
		fprintf(stderr, "keywarden: cannot give %s to the owner of "
		    "%s: %s\n", staged, dir, strerror(errno));
		goto out_staged;
	}
	if (check_staged(staged, from, head, &v) != 0)
		goto out_staged;
	gmtime_r(&now, &tm);
	strftime(suffix, sizeof(suffix), ".pre-restore-%Y%m%dT%H%M%SZ", &tm);
	if ((r = store_replace(dir, staged, suffix, aside,
	    sizeof(aside))) == KW_ERR_EXISTS) {
		fprintf(stderr, "keywarden: a store set aside under the same "
		    "name exists; nothing was changed; try again in a "
		    "second\n");
		goto out_staged;
	} else if (r != 0) {
		/* half-way: leave both for the operator to put right */
		fprintf(stderr, "keywarden: cannot put the restored store in "
		    "place: %s; the checked copy is %s, the previous store's "
		    "files end in %s\n", strerror(errno), staged, suffix);
		r = 1;
		goto out;
	}
	printf("restored %s from %s: audit log intact: %lld events, head "
	    "%s\n", dir, from, (long long)v.events, v.head);
	if (aside[0] != '\0')
		printf("the store it replaced is kept as %s\n", aside);
	r = 0;
	goto out;
 out_staged:
	unlink(staged);
	r = 1;
 out:
	close(lock);
	return r;
}
