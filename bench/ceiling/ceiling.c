/*
 * ceiling: the least a socketmap server can do. Single-threaded epoll; answers "NOTFOUND " to
 * every request without parsing it (one reply per ',' received). It marks the ceiling of this
 * machine with bench's load generator: no real server can answer faster over the same sockets.
 *
 * Build: cc -O2 -o ceiling ceiling.c      Run: ./ceiling PORT   (listens on 127.0.0.1 only)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

static const char REPLY[] = "9:NOTFOUND ,";

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8463;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024)) {
        perror("listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event events[256];
    char buf[65536];
    char out[65536];
    fprintf(stderr, "ceiling listening on 127.0.0.1:%d\n", port);
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == ls) {
                int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
                if (c >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) {
                close(fd);
                continue;
            }
            size_t len = 0;
            for (ssize_t j = 0; j < r && len + sizeof REPLY < sizeof out; j++) {
                if (buf[j] == ',') {
                    memcpy(out + len, REPLY, sizeof REPLY - 1);
                    len += sizeof REPLY - 1;
                }
            }
            if (len > 0 && write(fd, out, len) < 0) {
                close(fd);
            }
        }
    }
}
