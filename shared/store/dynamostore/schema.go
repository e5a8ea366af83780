package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key, index and TTL attribute names, and index names: the parts of the
// table that whoever creates it must get right.
const (
	AttrPK = "pk" // partition key of the table
	AttrSK = "sk" // sort key of the table

	IndexGSI1  = "gsi1" // signals by hour, incidents by policy
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"

	IndexGSI2  = "gsi2" // signals and incidents by identity key
	AttrGSI2PK = "gsi2pk"
	AttrGSI2SK = "gsi2sk"

	IndexGSI3  = "gsi3" // sparse: tagged signals by hour, all incidents
	AttrGSI3PK = "gsi3pk"
	AttrGSI3SK = "gsi3sk"

	// AttrTTL holds the epoch second after which DynamoDB may delete the
	// item (issued keys, signals, signal-hour markers).
	AttrTTL = "ttl"
)

// TableDesign is the table a Store needs, as data: the contract between this
// package and whatever creates the table (CreateTable, the CDK stack).
//
//   - Key: AttrPK (partition) and AttrSK (sort), both strings.
//   - Three global secondary indexes, IndexGSI1..3, each keyed by its own
//     pair of string attributes (AttrGSI1PK/AttrGSI1SK, …) and projecting
//     ALL attributes. They are overloaded: the package comment lists which
//     items fill which index. IndexGSI3 is sparse.
//   - On-demand (PAY_PER_REQUEST) billing.
//   - Time to live enabled on AttrTTL (epoch seconds).
//
// Adding attributes to items is compatible; changing any of the names above
// is a migration.
type TableDesign struct {
	AttributeDefinitions   []types.AttributeDefinition
	KeySchema              []types.KeySchemaElement
	GlobalSecondaryIndexes []types.GlobalSecondaryIndex
	BillingMode            types.BillingMode
	// TTLAttribute is the attribute to enable time to live on.
	TTLAttribute string
}

// Schema returns the table design. Each call returns fresh slices.
func Schema() TableDesign {
	def := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	gsi := func(name, pk, sk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName:  aws.String(name),
			KeySchema:  keys(pk, sk),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	return TableDesign{
		AttributeDefinitions: []types.AttributeDefinition{
			def(AttrPK), def(AttrSK),
			def(AttrGSI1PK), def(AttrGSI1SK),
			def(AttrGSI2PK), def(AttrGSI2SK),
			def(AttrGSI3PK), def(AttrGSI3SK),
		},
		KeySchema: keys(AttrPK, AttrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(IndexGSI1, AttrGSI1PK, AttrGSI1SK),
			gsi(IndexGSI2, AttrGSI2PK, AttrGSI2SK),
			gsi(IndexGSI3, AttrGSI3PK, AttrGSI3SK),
		},
		BillingMode:  types.BillingModePayPerRequest,
		TTLAttribute: AttrTTL,
	}
}

// CreateTableInput returns the CreateTable request for a table of this
// design named name.
func (d TableDesign) CreateTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		AttributeDefinitions:   d.AttributeDefinitions,
		KeySchema:              d.KeySchema,
		GlobalSecondaryIndexes: d.GlobalSecondaryIndexes,
		BillingMode:            d.BillingMode,
	}
}

// TableAPI is the part of the DynamoDB API that CreateTable uses;
// *dynamodb.Client implements it.
type TableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// tableWait bounds how long CreateTable waits for the table to become
// active.
const tableWait = 5 * time.Minute

// CreateTable creates the table name with Schema's design, waits until it
// is active and enables time to live on AttrTTL. A table that already
// exists is left as it is (its design is not checked) and only waited for;
// time to live already enabled is left alone too.
func CreateTable(ctx context.Context, client TableAPI, name string) error {
	d := Schema()
	_, err := client.CreateTable(ctx, d.CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return mapErr(ctx, "CreateTable "+name, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableWait); err != nil {
		return mapErr(ctx, "waiting for table "+name, err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return mapErr(ctx, "DescribeTimeToLive "+name, err)
	}
	if desc := ttl.TimeToLiveDescription; desc != nil && aws.ToString(desc.AttributeName) == d.TTLAttribute &&
		(desc.TimeToLiveStatus == types.TimeToLiveStatusEnabled || desc.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(d.TTLAttribute), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enabling time to live on %s: %w", name, mapErr(ctx, "UpdateTimeToLive", err))
	}
	return nil
}
