// The two GNU extensions the channel commands need (Debian 12's glibc 2.36 has both). Swift's
// Glibc module is built without _GNU_SOURCE, so it does not import them; they are declared here
// as glibc declares them.
#ifndef CSPAWN_SHIM_H
#define CSPAWN_SHIM_H

#include <spawn.h>

/// pipe(2) with flags, here O_CLOEXEC: no other thread's child can inherit the ends between the
/// pipe's creation and a later fcntl.
extern int pipe2(int pipefd[2], int flags);

/// A spawn file action that closes every descriptor from `from` on in the child.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

#endif
