// Command infra is Trailhound's CDK app (cdk.json runs it): the security
// account's stack and the member accounts' stacks, configured by the
// "trailhound" key of cdk.json's context. A bad configuration fails the
// synth with every problem named by its key.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"

	"github.com/trailhound/trailhound/infra/stacks"
)

func main() {
	err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	jsii.Close()
	if err != nil {
		os.Exit(1)
	}
}

func run() error {
	app, _, err := stacks.NewApp(nil)
	if err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
