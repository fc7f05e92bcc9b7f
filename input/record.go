package input

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
)

// Record writes dev's description and then every event it reads as an evemu recording to w, with
// times relative to the first event, until ctx is cancelled (it then closes dev to stop the read)
// or the device fails. It returns the number of events written. A device that vanishes mid-way
// ends the recording with an error; what was written stays valid.
func Record(ctx context.Context, dev Device, w io.Writer) (int, error) {
	if err := WriteEvemuHeader(w, dev.Info()); err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { dev.Close() })
	defer stop()
	bw := bufio.NewWriterSize(w, 64*1024)
	line := make([]byte, 0, 64)
	n := 0
	var t0 int64 = -1
	var werr error
	err := ReadEvents(dev, func(ev RawEvent) {
		if t0 < 0 {
			t0 = ev.TimeUS
		}
		ev.TimeUS -= t0
		line = AppendEvemuEvent(line[:0], ev)
		if werr == nil {
			if _, werr = bw.Write(line); werr == nil {
				n++
			}
		}
	})
	if werr != nil {
		return n, fmt.Errorf("record: %w", werr)
	}
	if ferr := bw.Flush(); ferr != nil {
		return n, fmt.Errorf("record: %w", ferr)
	}
	if ctx.Err() != nil || errors.Is(err, io.EOF) {
		return n, nil
	}
	return n, fmt.Errorf("record: device read: %w", err)
}
