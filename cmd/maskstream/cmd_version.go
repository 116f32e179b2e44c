package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set by the linker (-X main.version=...) for releases.
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "print the version",
		order:   100,
		run: func(_ context.Context, env *cliEnv, args []string) int {
			if len(args) > 0 {
				fmt.Fprintln(env.stdout, "usage: maskstream version\n\nPrints maskstream's version and the Go version it was built with.")
				return 0
			}
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(env.stdout, "maskstream %s (%s %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return 0
		},
	})
}
