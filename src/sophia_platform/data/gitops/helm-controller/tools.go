//go:build tools

// Package tools pins the command that build.sh compiles.
package tools

import _ "github.com/fluxcd/helm-controller"
