/*
 * ceiling.c — the benchmark's anchor: a trivial libmicrohttpd handler
 * with keywarden's threading model (epoll, internal polling thread,
 * thread pool) that answers every request with a fixed JSON body of the
 * size of a /v1/me answer.  What keywarden reaches is read against it.
 *
 * usage: bench-ceiling PORT THREADS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char body[] =
    "{\"id\":\"per_0123456789abcdef01234567\",\"email\":\"admin@example.com\","
    "\"name\":\"Demo Admin\",\"manager\":null,\"roles\":[\"admin\"],"
    "\"teams\":[],\"slack_user_id\":null,\"active\":true,"
    "\"created_at\":\"2026-11-28T09:00:00Z\","
    "\"updated_at\":\"2026-11-28T09:00:00Z\"}";

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	(void)cls; (void)url; (void)method; (void)version; (void)upload;
	/*
	 * Answer on the second call, as keywarden does (MHD calls once with
	 * the headers, then again once the request is complete): a response
	 * queued on the first call makes libmicrohttpd answer "Connection:
	 * close", and the ceiling would then pay a TCP connect per request.
	 */
	if (*ctx == NULL) {
		*ctx = (void *)body;
		return MHD_YES;
	}
	*upload_size = 0;
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
	    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon	*d;
	sigset_t		 set;
	int			 sig;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-ceiling PORT THREADS\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
	    MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
	if (d == NULL)
		return 1;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
