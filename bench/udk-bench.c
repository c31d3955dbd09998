/* SPDX-License-Identifier: MIT */
/*
 * udk-bench: udk's benchmarks, one subcommand each.  This file only picks
 * the subcommand; docs/benchmarks.md says what each one measures.
 *
 * Exit status: 0 done, 1 a runtime error, 2 a usage error.
 */
#include <stdlib.h>
#include <string.h>

#include <udk/log.h>
#include <udk/util.h>

#include "bench-mtdm.h"
#include "bench.h"
#include "udk-build-config.h"

struct subcommand {
        const char *name;
        int (*main)(int argc, char **argv);
        const char *summary; /* NULL: hidden from --help (an internal mode) */
};

static const struct subcommand subcommands[] = {
        { "cycle", bench_cycle_main,
          "cost of the IO cycle and wake lateness of its clock, against cyclictest" },
        { "cycle-inner", bench_cycle_inner_main, NULL },
        { "chain", bench_chain_main,
          "wake times of N clients chained on udkd, against a futex ping-pong" },
        { "compare", bench_compare_main,
          "the chain on udkd, JACK2 and PipeWire side by side, with ratios to udk's" },
        { "latency", bench_latency_main,
          "a device's round trip through a loopback, by the phases of several tones" },
        { "match", bench_match_main, "time to match nubs against drivers' personalities" },
        { "restart", bench_restart_main, "from a driver's SIGKILL to its device's signal coming back" },
        { "resample", bench_resample_main, "CPU and THD+N of libsoxr's qualities beside libsamplerate's" },
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: udk-bench COMMAND [OPTION]...\n"
                     "Measure udk's real-time core.\n"
                     "\n"
                     "Commands:\n");
        for (size_t i = 0; i < UDK_ELEMENTSOF(subcommands); i++)
                if (subcommands[i].summary)
                        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
        fprintf(out,
                "\n"
                "  -h, --help     print this help and exit ('udk-bench COMMAND --help' for a command's)\n"
                "  -V, --version  print the version and exit\n"
                "\n"
                "Results go to stdout, progress to stderr.  Exit status: 0 done (a missed target is a\n"
                "result, not an error), 1 runtime error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : NULL;

        udk_log_set_ident("udk-bench");
        if (!cmd) {
                usage(stderr);
                return BENCH_EXIT_USAGE;
        }
        if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
                usage(stdout);
                return EXIT_SUCCESS;
        }
        if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
                printf("udk-bench %s\n", UDK_VERSION);
                return EXIT_SUCCESS;
        }
        for (size_t i = 0; i < UDK_ELEMENTSOF(subcommands); i++)
                if (strcmp(cmd, subcommands[i].name) == 0)
                        return subcommands[i].main(argc - 1, argv + 1);
        bench_usage_error(NULL, "unknown command '%s'", cmd);
        return BENCH_EXIT_USAGE;
}
