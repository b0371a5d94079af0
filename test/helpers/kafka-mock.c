/*
 * Protocol-level Kafka mock for integration tests: librdkafka's built-in mock cluster
 * (rd_kafka_mock_cluster_new). It speaks the Kafka wire protocol but is NOT a real broker:
 * no replication, partial admin API coverage. Prints the bootstrap servers, then serves until
 * stdin closes or SIGTERM/SIGINT arrives.
 * Usage: kafka-mock BROKERS [TOPIC:PARTITIONS ...]  (topics are pre-created, standing in for
 * `algoplanes topics apply`, whose CreateTopics call kafkajs cannot route to this mock).
 * Build: gcc kafka-mock.c -o kafka-mock $(pkg-config --cflags --libs rdkafka)
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

int main(int argc, char **argv) {
  int brokers = argc > 1 ? atoi(argv[1]) : 1;
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The mock cluster lives inside a client handle; a producer handle is the lightest host. */
  if (rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof err) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "conf: %s\n", err);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  for (int i = 2; i < argc; i++) {
    char *colon = strrchr(argv[i], ':');
    if (!colon) {
      fprintf(stderr, "bad topic spec %s (want TOPIC:PARTITIONS)\n", argv[i]);
      return 2;
    }
    *colon = '\0';
    if (rd_kafka_mock_topic_create(mc, argv[i], atoi(colon + 1), 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fprintf(stderr, "cannot create topic %s\n", argv[i]);
      return 2;
    }
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char buf[256];
  while (!stop_requested) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;            /* stdin closed: parent is gone */
    if (n < 0) continue;          /* interrupted by a signal */
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
