//go:build linux

package rulesets

import (
	"os"
	"syscall"
)

// stampOf describes a file's version. The inode and the change time catch
// what size and modification time miss: a copy that keeps them (cp -p,
// rsync -a, tar, image layers with fixed times) and a file renamed over
// another.
func stampOf(fi os.FileInfo) fileStamp {
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino = uint64(st.Dev), uint64(st.Ino)
		s.ctime = st.Ctim.Nano()
	}
	return s
}
