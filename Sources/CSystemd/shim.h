/* CSystemd: libsystemd's notify, socket-activation and journal calls for Swift.
 * The variadic sd_notifyf/sd_journal_send are not importable; Swift formats strings itself. */
#ifndef SLOTH_CSYSTEMD_SHIM_H
#define SLOTH_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
static inline int sloth_sd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }
#endif
