/*
 * kafka-mock: run librdkafka's built-in mock Kafka cluster as a standalone
 * Kafka-protocol server for external clients (kafkajs, @platformatic/kafka...).
 *
 * Build (Debian librdkafka-dev 2.0.2):
 *   gcc -O2 -o kafka-mock kafka-mock.c $(pkg-config --cflags --libs rdkafka)
 * Build (librdkafka >= 2.15 static, see report): gcc -O2 -I<inc> -o kafka-mock kafka-mock.c <src>/librdkafka.a -lz -lpthread -lm -ldl -lrt
 * Usage:  kafka-mock [-b brokers] [-t topic:partitions[:rf]]... [-f bootstrap-file] [-s]
 *   -b N   number of brokers (default 1); each listens on 127.0.0.1:<random port>
 *   -t     pre-create a topic (repeatable), e.g. -t events:3 -t log:1:1
 *   -f F   write the bootstrap servers ("127.0.0.1:p1,127.0.0.1:p2") to F when ready
 *   -a K:MIN:MAX  override the advertised version range of ApiKey K (experimental)
 *   -s     also read control commands from stdin and exit when stdin closes
 * It prints "BOOTSTRAP=<servers>" on stdout once listening, then runs until
 * SIGINT/SIGTERM (or, with -s, until stdin reaches EOF).
 *
 * Control commands (one per line on stdin with -s):
 *   topic <name> <partitions> <rf>     create a topic
 *   down <brokerId> | up <brokerId>    take a broker's listener down/up
 *   leader <topic> <partition> <id>    move partition leadership
 *   rtt <brokerId> <ms>                add latency to a broker
 *   error <ApiKey> <errcode> [count]   make the next <count> requests of ApiKey fail
 *   topicerror <topic> <errcode>       make metadata report an error for a topic
 *   deltopic <topic> | controller <id> (librdkafka >= 2.15 only)
 *   quit
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t run = 1;
static void stop(int sig) { (void)sig; run = 0; }

static void command(rd_kafka_mock_cluster_t *mc, char *line) {
        char a[256] = "", b[256] = "", c[256] = "", d[256] = "";
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        int n = sscanf(line, "%255s %255s %255s %255s", a, b, c, d);
        if (n < 1) return;
        if (!strcmp(a, "topic") && n >= 3)
                err = rd_kafka_mock_topic_create(mc, b, atoi(c), n >= 4 ? atoi(d) : 1);
        else if (!strcmp(a, "down") && n >= 2)
                err = rd_kafka_mock_broker_set_down(mc, atoi(b));
        else if (!strcmp(a, "up") && n >= 2)
                err = rd_kafka_mock_broker_set_up(mc, atoi(b));
        else if (!strcmp(a, "leader") && n >= 4)
                err = rd_kafka_mock_partition_set_leader(mc, b, atoi(c), atoi(d));
        else if (!strcmp(a, "rtt") && n >= 3)
                err = rd_kafka_mock_broker_set_rtt(mc, atoi(b), atoi(c));
        else if (!strcmp(a, "error") && n >= 3) {
                size_t cnt = n >= 4 ? (size_t)atoi(d) : 1, i;
                rd_kafka_resp_err_t *errs = calloc(cnt, sizeof(*errs));
                for (i = 0; i < cnt; i++) errs[i] = (rd_kafka_resp_err_t)atoi(c);
                rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(b), cnt, errs);
                free(errs);
        } else if (!strcmp(a, "topicerror") && n >= 3)
                rd_kafka_mock_topic_set_error(mc, b, (rd_kafka_resp_err_t)atoi(c));
#if RD_KAFKA_VERSION >= 0x020f0100
        else if (!strcmp(a, "deltopic") && n >= 2)
                err = rd_kafka_mock_topic_delete(mc, b);
        else if (!strcmp(a, "controller") && n >= 2)
                rd_kafka_mock_set_controller_id(mc, atoi(b));
#endif
        else if (!strcmp(a, "quit")) { run = 0; return; }
        else { printf("ERR unknown command: %s\n", line); fflush(stdout); return; }
        printf("%s %s\n", err ? "ERR" : "OK", err ? rd_kafka_err2str(err) : a);
        fflush(stdout);
}

int main(int argc, char **argv) {
        int brokers = 1, use_stdin = 0, opt, i;
        const char *bootfile = NULL;
        char *topics[64]; int ntopics = 0;
        char *apivers[64]; int napivers = 0;
        char errstr[512];

        while ((opt = getopt(argc, argv, "b:t:f:a:sh")) != -1) {
                switch (opt) {
                case 'b': brokers = atoi(optarg); break;
                case 't': if (ntopics < 64) topics[ntopics++] = optarg; break;
                case 'f': bootfile = optarg; break;
                case 'a': if (napivers < 64) apivers[napivers++] = optarg; break;
                case 's': use_stdin = 1; break;
                default:
                        fprintf(stderr, "usage: %s [-b brokers] [-t topic:parts[:rf]]... [-f file] [-a key:min:max]... [-s]\n", argv[0]);
                        return opt == 'h' ? 0 : 2;
                }
        }

        /* A dummy producer handle owns the mock cluster (no bootstrap.servers needed). */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)); /* errors only */
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }

        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }
#if RD_KAFKA_VERSION >= 0x020f0100
        /* Older mocks report ControllerId 0 (no such broker): kafkajs then fails
         * idempotent/transactional producers and admin calls. Fixed API in >= 2.15. */
        rd_kafka_mock_set_controller_id(mc, 1);
#endif

        /* -a ApiKey:Min:Max overrides the advertised version range of one API
         * (experiments only: -a 18:0:3 did NOT make @platformatic/kafka work,
         * the mock's ApiVersions v3 response is not parseable by it). */
        for (i = 0; i < napivers; i++) {
                int k, mn, mx;
                if (sscanf(apivers[i], "%d:%d:%d", &k, &mn, &mx) != 3) { fprintf(stderr, "bad -a %s\n", apivers[i]); return 2; }
                rd_kafka_mock_set_apiversion(mc, (int16_t)k, (int16_t)mn, (int16_t)mx);
        }

        for (i = 0; i < ntopics; i++) {
                char *name = strdup(topics[i]), *p = strchr(name, ':');
                int parts = 1, rf = 1;
                if (p) { *p++ = '\0'; parts = atoi(p); if ((p = strchr(p, ':'))) rf = atoi(p + 1); }
                if (rf > brokers) rf = brokers;
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, parts, rf);
                if (err) { fprintf(stderr, "topic %s: %s\n", name, rd_kafka_err2str(err)); return 1; }
                free(name);
        }

        const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
        if (bootfile) {
                char tmp[4096];
                snprintf(tmp, sizeof(tmp), "%s.tmp", bootfile);
                FILE *f = fopen(tmp, "w");
                if (!f || fprintf(f, "%s\n", bs) < 0 || fclose(f) || rename(tmp, bootfile)) {
                        fprintf(stderr, "cannot write %s: %s\n", bootfile, strerror(errno));
                        return 1;
                }
        }
        printf("BOOTSTRAP=%s\nLIBRDKAFKA=%s\n", bs, rd_kafka_version_str());
        fflush(stdout);

        struct sigaction sa; memset(&sa, 0, sizeof(sa)); sa.sa_handler = stop;
        sigaction(SIGINT, &sa, NULL); sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: fgets returns on signal */
        signal(SIGPIPE, SIG_IGN);

        char line[1024];
        if (use_stdin) {
                while (run) {
                        errno = 0;
                        if (!fgets(line, sizeof(line), stdin)) { if (errno == EINTR) continue; break; }
                        line[strcspn(line, "\r\n")] = '\0';
                        command(mc, line);
                }
        } else {
                sigset_t block, old; /* race-free wait for SIGINT/SIGTERM */
                sigemptyset(&block); sigaddset(&block, SIGINT); sigaddset(&block, SIGTERM);
                sigprocmask(SIG_BLOCK, &block, &old);
                while (run) sigsuspend(&old);
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        if (bootfile) unlink(bootfile);
        return 0;
}
