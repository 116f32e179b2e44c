//go:build !linux

package rulesets

import "os"

// stampOf describes a file's version by its size and modification time.
// Linux adds the inode and change time (stamp_linux.go); elsewhere a copy
// that keeps both (cp -p, rsync -a) goes unnoticed until the ruleset file
// itself changes.
func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}
