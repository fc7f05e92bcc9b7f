package control_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"tapwall/cmd/internal/control"
)

// exampleShow stands in for the show runner: it applies every console input at tick 600.
type exampleShow struct{}

func (exampleShow) Status() control.Status {
	return control.Status{Role: "primary", Wall: "wall-1", Epoch: 1, Round: 1, Phase: "running"}
}

func (exampleShow) Input(ctx context.Context, line []byte) (int64, error) {
	fmt.Printf("show applies %s\n", line)
	return 600, nil
}

func (exampleShow) Metrics() http.Handler { return http.NotFoundHandler() }

// A show starts its control server, which runs until the show's context ends. A destructive
// console action needs "confirm":true.
func ExampleServer() {
	srv, err := control.New(control.Config{Addr: "127.0.0.1:0", Show: exampleShow{}, Log: zerolog.Nop()})
	if err != nil {
		fmt.Println(err) // e.g. an address off loopback without a token: exit 2
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		fmt.Println(err) // e.g. the port is in use: exit 2
		return
	}
	defer srv.Wait() // runs after cancel: the server has stopped when the show returns
	defer cancel()

	for _, line := range []string{`{"action":"abort"}`, `{"action":"abort","confirm":true}`} {
		resp, err := http.Post("http://"+srv.Addr()+"/api/input", "application/json", strings.NewReader(line))
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.Contains(string(body), `"error":"confirm"`), strings.TrimSpace(string(body)) == `{"tick":600}`)
	}
	// Output:
	// 409 true false
	// show applies {"action":"abort","source":"console"}
	// 200 false true
}
