/*
 * dlhost — dlopen()s libplugin.so (next to this executable), calls
 * plugin_run (3 x 777 bytes from plugin_make, one leaked) and dlclose()s
 * it. dlopen itself allocates (link map, scope arrays); those are compared
 * against valgrind, the plugin's own blocks against the printed truth.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include "progs.h"

int main(int argc, char **argv)
{
    char path[PATH_MAX];
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
        if (n <= 0)
            return 1;
        path[n] = 0;
        char *slash = strrchr(path, '/');
        strcpy(slash + 1, "libplugin.so");
    }
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        out("dlhost: dlopen failed\n");
        return 1;
    }
    void (*run)(void) = (void (*)(void))dlsym(h, "plugin_run");
    if (!run) {
        out("dlhost: dlsym failed\n");
        return 1;
    }
    run();
    dlclose(h);
    out("TRUTH dlhost-plugin allocs=3 frees=2 bytes=2331 live_blocks=1 live_bytes=777 size=777 function=plugin_make\n");
    out("dlhost: ok\n");
    return 0;
}
