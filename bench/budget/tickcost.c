/*
 * tickcost — what a "ticker" thread would cost on this machine, for
 * bench/budget.sh. Issue 11 allows trace timestamps from a coarse time that
 * a thread publishes every N us instead of a clock read per event (rdtsc
 * 11-13 ns, clock_gettime ~30 ns on kvm-clock). This measures the price:
 * a thread that sleeps to absolute deadlines PERIOD us apart
 * (clock_nanosleep, timer slack 1 ns) and stores CLOCK_MONOTONIC into a
 * shared word each time, for 1 s; prints "PERIOD wakeups CPU_MS_PER_S
 * MAX_LATE_US": its own CPU time (user + sys of the thread) per second of
 * running and the worst lateness of a wake-up (how stale the published
 * time could get). Usage: tickcost PERIOD_US...
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static _Atomic uint64_t published;

static uint64_t ns_of(const struct timespec *t) { return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec; }

struct run { long period_us; long wakeups; double cpu_ms; double late_us; };

static void *ticker(void *arg)
{
    struct run *r = arg;
    prctl(PR_SET_TIMERSLACK, 1ul);
    struct timespec c0, cpu0, cpu1, dl;
    clock_gettime(CLOCK_MONOTONIC, &c0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    uint64_t start = ns_of(&c0), next = start, worst = 0;
    for (;;) {
        next += (uint64_t)r->period_us * 1000u;
        dl.tv_sec = (time_t)(next / 1000000000u);
        dl.tv_nsec = (long)(next % 1000000000u);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t t = ns_of(&now);
        atomic_store_explicit(&published, t, memory_order_release);
        if (t - next > worst) worst = t - next;
        r->wakeups++;
        if (t - start >= 1000000000u) break;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    r->cpu_ms = (double)(ns_of(&cpu1) - ns_of(&cpu0)) / 1e6;
    r->late_us = (double)worst / 1e3;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tickcost PERIOD_US...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct run r = { atol(argv[i]), 0, 0, 0 };
        if (r.period_us <= 0) return 2;
        pthread_t t;
        if (pthread_create(&t, NULL, ticker, &r) || pthread_join(t, NULL)) return 1;
        printf("%ld %ld %.1f %.1f\n", r.period_us, r.wakeups, r.cpu_ms, r.late_us);
    }
    return 0;
}
