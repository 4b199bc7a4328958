/* In C because the handler must run nothing a sanitizer intercepts or instruments, and Swift
 * cannot promise that: under ThreadSanitizer, interceptors (`unlink`'s) and the once-check of a
 * Swift global's accessor take a lock that the thread the signal cut into may hold, and the
 * handler was seen waiting on it forever, having interrupted a pthread_mutex_unlock. So the
 * handler makes the system calls themselves, on memory filled before it can run. */
#include "fatal_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNINSTRUMENTED __attribute__((disable_sanitizer_instrumentation))

/* The kernel's own struct sigaction on the 64-bit targets (x86_64, arm64), as rt_sigaction reads
 * and writes it: a disposition read with it is put back byte for byte, its restorer included. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};
_Static_assert(sizeof(void *) == 8, "the kernel's struct sigaction of a 64-bit target");

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
enum { crash_signal_count = sizeof crash_signals / sizeof crash_signals[0] };

static struct {
    char message[256];
    size_t message_length;
    char path[4096];
    int has_path;
    struct kernel_sigaction previous[crash_signal_count];
    /* Set when the handler is entered. Entered again (another crash signal meanwhile, or the
     * previous handler, a sanitizer's wrapper, handing the signal back to it), it only dies. */
    volatile sig_atomic_t handling;
} state;

static const struct kernel_sigaction default_action;

UNINSTRUMENTED static long set_action(int signal, const struct kernel_sigaction *action,
                                      struct kernel_sigaction *previous) {
    return syscall(SYS_rt_sigaction, signal, action, previous, sizeof action->mask);
}

/* Sets `action` for `signal` and sends the signal to this thread: it arrives, to that
 * disposition, once the handler returns (a signal is blocked while its handler runs). */
UNINSTRUMENTED static void raise_with(int signal, const struct kernel_sigaction *action) {
    set_action(signal, action, NULL);
    syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), signal);
}

/* A fault, or a signal this process sent itself (abort(3)), goes on to the handler there was
 * before: Swift's backtracer logs the backtrace and returns, and the fault recurs, or abort raises
 * the signal again, to the default action. A signal sent by another process ends the daemon at
 * once: nothing would recur after the backtracer returned, and the daemon had lived on, without
 * its socket. */
UNINSTRUMENTED static void handle(int signal, siginfo_t *info, void *context) {
    (void)context;
    if (state.handling) {
        raise_with(signal, &default_action);
        return;
    }
    state.handling = 1;
    syscall(SYS_write, 2, state.message, state.message_length);
    if (state.has_path) syscall(SYS_unlinkat, AT_FDCWD, state.path, 0);
    const struct kernel_sigaction *next = &default_action;
    int from_another_process = info->si_code <= 0 && info->si_pid != (pid_t)syscall(SYS_getpid);
    for (int i = 0; i < crash_signal_count && !from_another_process; i++) {
        if (crash_signals[i] == signal) next = &state.previous[i];
    }
    raise_with(signal, next);
}

int fatal_signals_install(const char *message, const char *path) {
    size_t message_length = strlen(message);
    if (message_length > sizeof state.message || (path && strlen(path) >= sizeof state.path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(state.message, message, message_length);
    state.message_length = message_length;
    state.has_path = path != NULL;
    if (path) strcpy(state.path, path);
    state.handling = 0;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handle;
    /* On the thread's alternate stack where it has one (Swift's runtime gives the main thread one):
     * a stack overflow still runs the handler there. */
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < crash_signal_count; i++) {
        /* The kernel's view, read raw: what the handler puts back. Then libc's sigaction, which a
         * sanitizer must see (it wraps the handlers it is told of). */
        if (set_action(crash_signals[i], NULL, &state.previous[i]) != 0) return -1;
        if (sigaction(crash_signals[i], &action, NULL) != 0) return -1;
    }
    return 0;
}

void fatal_signals_uninstall(void) {
    for (int i = 0; i < crash_signal_count; i++) set_action(crash_signals[i], &state.previous[i], NULL);
    state.has_path = 0;
}
