#ifndef FATAL_SIGNALS_H
#define FATAL_SIGNALS_H

/* A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) writes `message` to standard error
 * and removes the file at `path` (a socket, so that a restarted daemon starts clean; NULL for
 * none), then goes to the handler there was before (Swift's backtracer, which logs the
 * backtrace) and dies of the same signal: a non-zero status for the supervisor. A crash signal
 * sent by another process skips the backtracer: the daemon dies of it at once.
 * Both strings are copied. 0 on success; -1 when a string is too long or a signal could not be
 * taken (errno says why). */
int fatal_signals_install(const char *message, const char *path);

/* Puts the dispositions there were before back. */
void fatal_signals_uninstall(void);

#endif
