package render

import (
	"os"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"
)

// The render tests need Ebiten's loop: TestMain runs it on the main goroutine and the tests on
// another; onFrame runs a function inside one of the loop's Draw calls, as the window does, so the
// command queue is flushed between frames exactly as in the show. Run them under xvfb-run.

type job struct {
	f    func(screen *ebiten.Image)
	done chan struct{}
}

type harness struct {
	m       *testing.M
	started bool
	jobs    chan job
	code    chan int
	exit    int
}

var theHarness *harness

func (h *harness) Update() error {
	if !h.started {
		h.started = true
		go func() { h.code <- h.m.Run() }()
	}
	select {
	case c := <-h.code:
		h.exit = c
		return ebiten.Termination
	default:
	}
	return nil
}

func (h *harness) Draw(screen *ebiten.Image) {
	select {
	case j := <-h.jobs:
		j.f(screen)
		close(j.done)
	default:
	}
}

func (h *harness) Layout(int, int) (int, int) { return 320, 240 }

// onFrame runs f inside the Draw of the next frame and waits for it.
func onFrame(f func(screen *ebiten.Image)) {
	j := job{f: f, done: make(chan struct{})}
	theHarness.jobs <- j
	<-j.done
}

func TestMain(m *testing.M) {
	theHarness = &harness{m: m, jobs: make(chan job), code: make(chan int, 1)}
	ebiten.SetWindowSize(320, 240)
	ebiten.SetVsyncEnabled(false)
	ebiten.SetRunnableOnUnfocused(true)
	// One thread: the render thread's work of the last frame never runs during a Draw, so
	// testing.AllocsPerRun counts what Draw itself allocates.
	if err := ebiten.RunGameWithOptions(theHarness, &ebiten.RunGameOptions{SingleThread: true}); err != nil {
		panic(err)
	}
	os.Exit(theHarness.exit)
}
