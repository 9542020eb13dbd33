// etcd built from the published go.etcd.io/etcd/server/v3 module, at the
// version k8s.io/kubernetes itself is tested with (its go.mod pins it).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
