// kube-apiserver built from the published k8s.io/kubernetes module, for the
// bucketcors tests: no prebuilt binary can be fetched on the project's
// machines, but the module proxy serves the sources.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
