/*
 * backup.h — the operator's backup and restore of a data directory's
 * store, and the lock that keeps a restore and a server apart.
 */
#ifndef KW_BACKUP_H
#define KW_BACKUP_H

#define BACKUP_USAGE	"backup --data-dir DIR --to FILE   (online; never " \
			"the master key)"
#define RESTORE_USAGE	"restore --data-dir DIR --from FILE " \
			"[--expect-head HASH]   (server stopped)"

/* keywarden backup: argv[0] is "backup".  Exit status: 0, 1 (failed,
 * nothing left behind), 2 (usage). */
int	 backup_cmd(int argc, char **argv);
/* keywarden restore: argv[0] is "restore".  Exit status as backup_cmd. */
int	 restore_cmd(int argc, char **argv);

/*
 * Lock data directory dir against a restore (shared: serve, jobs run)
 * or against everything else (exclusive: restore), without waiting.
 * Returns the open descriptor holding the lock (it lasts until closed or
 * the process ends), KW_ERR_CONFLICT when the other kind is held, or
 * KW_ERR_IO when dir cannot be opened.
 */
int	 backup_lock_dir(const char *dir, int exclusive);

#endif /* KW_BACKUP_H */
