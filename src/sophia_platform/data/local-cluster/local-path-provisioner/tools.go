//go:build tools

// Package tools pins rancher's local-path-provisioner (the provisioner K3s ships), which
// build.sh compiles. Its module has no replace directives; the wrapper exists so the pin and
// every dependency are in a go.sum the cache key hashes.
package tools

import (
	_ "github.com/rancher/local-path-provisioner"
)
