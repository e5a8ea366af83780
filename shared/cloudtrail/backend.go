package cloudtrail

import (
	segjson "github.com/segmentio/encoding/json"
)

// decoder is the JSON library used by Decode and Reader: segmentio/encoding,
// the fastest of the libraries compared in BenchmarkDecode that did not
// panic on malformed input (see the package's tests). It copies decoded
// strings and raw fields out of its input, as encoding/json does, so an
// event shares no memory with the buffer it was read from and keeping one
// string of it keeps nothing else alive.
//
// segmentio/encoding recurses once per nesting level without a limit, and
// running out of stack is fatal, so decode rejects input nested deeper than
// maxDepth before handing it over.
var decoder = backend{name: "segmentio", unmarshal: segjson.Unmarshal}
