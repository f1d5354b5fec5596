/*
 * noop-latency: NOOP round-trip latency of an SMTP server, C sessions at once.
 *
 * Each session reads the greeting, sends EHLO, then sends NOOPs one after the other, each only
 * once the previous one's reply has arrived, and times each round trip. One thread, poll(2), no
 * allocation on the way: the client's own delay stays far below what it measures, which the
 * Python version (noop-latency.py) did not achieve at c=50 (its p99 was 6-11 ms against an idle
 * server). Prints p50/p90/p99/p99.9/max in microseconds and the rate.
 *
 *   gcc -O2 -o /tmp/noop-latency src/bench/noop-latency.c
 *   /tmp/noop-latency HOST PORT [CONC=50] [COUNT=400] [WARMUP=50]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct session {
  int fd;
  int state; /* 0 greeting, 1 EHLO reply, 2 NOOP reply */
  int done;  /* NOOPs answered */
  long long sent;
  char buf[4096];
  int len;
};

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

static void send_all(int fd, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      perror("write");
      exit(1);
    }
    s += w;
    n -= (size_t)w;
  }
}

/* True when buf holds a complete reply (its last line has a space after the code). */
static int complete_reply(struct session *s) {
  for (;;) {
    char *nl = memchr(s->buf, '\n', (size_t)s->len);
    if (!nl) return 0;
    int line = (int)(nl - s->buf) + 1;
    int last = line >= 4 && s->buf[3] == ' ';
    memmove(s->buf, s->buf + line, (size_t)(s->len - line));
    s->len -= line;
    if (last) return 1;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s HOST PORT [CONC] [COUNT] [WARMUP]\n", argv[0]);
    return 2;
  }
  int conc = argc > 3 ? atoi(argv[3]) : 50, count = argc > 4 ? atoi(argv[4]) : 400;
  int warmup = argc > 5 ? atoi(argv[5]) : 50;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &addr.sin_addr);
  struct session *s = calloc((size_t)conc, sizeof *s);
  struct pollfd *p = calloc((size_t)conc, sizeof *p);
  long long *samples = malloc(sizeof(long long) * (size_t)conc * (size_t)count);
  int n = 0, finished = 0, one = 1;
  for (int i = 0; i < conc; i++) {
    s[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s[i].fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
      perror("connect");
      return 1;
    }
    setsockopt(s[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p[i].fd = s[i].fd;
    p[i].events = POLLIN;
  }
  long long start = 0;
  while (finished < conc) {
    if (poll(p, (nfds_t)conc, 30000) <= 0) {
      fprintf(stderr, "no reply within 30 s\n");
      return 1;
    }
    for (int i = 0; i < conc; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(s[i].fd, s[i].buf + s[i].len, sizeof s[i].buf - 1 - (size_t)s[i].len);
      if (r <= 0) {
        fprintf(stderr, "session %d: connection closed\n", i);
        return 1;
      }
      s[i].len += (int)r;
      while (p[i].fd >= 0 && complete_reply(&s[i])) {
        long long t = now_us();
        if (s[i].state == 0) {
          s[i].state = 1;
          send_all(s[i].fd, "EHLO bench.example\r\n");
          continue;
        }
        if (s[i].state == 2) {
          if (s[i].done >= warmup) {
            if (!start) start = s[i].sent;
            samples[n++] = t - s[i].sent;
          }
          s[i].done++;
        }
        s[i].state = 2;
        if (s[i].done >= warmup + count) {
          send_all(s[i].fd, "QUIT\r\n");
          close(s[i].fd);
          p[i].fd = -1;
          finished++;
          break;
        }
        s[i].sent = now_us();
        send_all(s[i].fd, "NOOP\r\n");
      }
    }
  }
  double secs = (now_us() - start) / 1e6;
  qsort(samples, (size_t)n, sizeof *samples, cmp);
  printf("noop c=%d n=%d p50 %lld p90 %lld p99 %lld p99.9 %lld max %lld us, %.0f NOOP/s\n", conc, n,
         samples[n / 2], samples[n * 9 / 10], samples[n * 99 / 100], samples[n * 999 / 1000], samples[n - 1],
         n / secs);
  return 0;
}
