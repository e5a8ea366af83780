package cloudtrail_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trailhound/trailhound/shared/cloudtrail"
)

func ExampleNewReader() {
	// An S3 export as CloudTrail delivers it (gzip would be detected too),
	// with one record that lacks its userIdentity.
	const export = `{"Records":[
	  {"eventVersion":"1.08","eventTime":"2023-07-10T12:00:42Z","eventSource":"cloudtrail.amazonaws.com",
	   "eventName":"StopLogging","awsRegion":"us-east-1","eventID":"7d6a5c1e-0000-4000-8000-000000000001",
	   "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123837392027:user/bert-jan","accountId":"123837392027"}},
	  {"eventVersion":"1.08","eventTime":"2023-07-10T12:00:43Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"},
	  {"eventVersion":"1.08","eventTime":"2023-07-10 12:01:00.000000000","eventSource":"iam.amazonaws.com",
	   "eventName":"CreateAccessKey","userIdentity":{"type":"Root","accountId":"123837392027"}}
	]}`

	r := cloudtrail.NewReader(strings.NewReader(export))
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, cloudtrail.ErrFileCorrupt) {
			fmt.Println("stopping:", err)
			break
		}
		var re *cloudtrail.RecordError
		if errors.As(err, &re) {
			fmt.Println("skipped a record:", re.Reason)
			continue
		}
		fmt.Println(ev.EventTime.Format("15:04:05"), ev.Service(), ev.EventName, ev.UserIdentity.Type)
	}
	fmt.Println("elements:", r.Records())
	// Output:
	// 12:00:42 cloudtrail StopLogging IAMUser
	// skipped a record: missing userIdentity
	// 12:01:00 iam CreateAccessKey Root
	// elements: 3
}
