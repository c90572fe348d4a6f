//go:build unix

package proxy

import "syscall"

// peekFD is the RawConn.Read callback of stale. It returns true so that the
// runtime never waits for readability: one non-blocking peek is the check.
// Only "nothing to read yet" means clean; end of stream (the backend closed
// the connection), bytes nobody asked for, or an error all mean stale.
func (b *backendConn) peekFD(fd uintptr) bool {
	var one [1]byte
	_, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	b.peekStale = err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR
	return true
}
