package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"tapwall/game"
	"tapwall/internal/durable"
)

// PointPair is one calibration point: where the device saw the touch, normalised to 0..1 on its
// axes (U, V), and the wall point the crosshair was at (XMM, YMM).
type PointPair struct {
	U   float64 `json:"u"`
	V   float64 `json:"v"`
	XMM float64 `json:"x_mm"`
	YMM float64 `json:"y_mm"`
}

// Fit is the result of a calibration: the matrix for the frame's `calibration` key and how far,
// in millimetres, the fitted mapping still misses the points.
type Fit struct {
	Frame       string     `json:"frame"`
	Calibration [6]float64 `json:"calibration"`
	RMSMM       float64    `json:"residual_mm"`
	MaxMM       float64    `json:"max_error_mm"`
	Points      int        `json:"points"`
}

// FitCalibration finds, by least squares, the calibration matrix that makes frame fc map the
// device points onto their wall points (the rotation and mirroring of fc stay as configured). It
// needs at least three points not on one line.
func FitCalibration(fc game.FrameConfig, pts []PointPair) (Fit, error) {
	if len(pts) < 3 {
		return Fit{}, fmt.Errorf("%w: calibration needs at least 3 points, got %d", ErrConfig, len(pts))
	}
	// Wanted calibrated device coordinates: undo the frame rectangle, mirroring and rotation.
	var ata [3][3]float64
	var atu, atv [3]float64
	for _, p := range pts {
		u2, v2 := unrotate(fc, (p.XMM-float64(fc.XMM))/float64(fc.WidthMM), (p.YMM-float64(fc.YMM))/float64(fc.HeightMM))
		row := [3]float64{p.U, p.V, 1}
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				ata[i][j] += row[i] * row[j]
			}
			atu[i] += row[i] * u2
			atv[i] += row[i] * v2
		}
	}
	abc, ok1 := solve3(ata, atu)
	def, ok2 := solve3(ata, atv)
	if !ok1 || !ok2 {
		return Fit{}, fmt.Errorf("%w: calibration points lie on one line: touch crosshairs spread over the frame", ErrConfig)
	}
	fit := Fit{Frame: fc.Name, Calibration: [6]float64{abc[0], abc[1], abc[2], def[0], def[1], def[2]}, Points: len(pts)}
	var sum float64
	for _, p := range pts {
		x, y := applyCalibration(fc, fit.Calibration, p.U, p.V)
		e := math.Hypot(x-p.XMM, y-p.YMM)
		sum += e * e
		fit.MaxMM = math.Max(fit.MaxMM, e)
	}
	fit.RMSMM = math.Sqrt(sum / float64(len(pts)))
	return fit, nil
}

// unrotate turns frame-normalised wall coordinates back into calibrated device coordinates.
func unrotate(fc game.FrameConfig, p, q float64) (float64, float64) {
	if fc.MirrorX {
		p = 1 - p
	}
	if fc.MirrorY {
		q = 1 - q
	}
	switch fc.Rotation {
	case 90:
		return q, 1 - p
	case 180:
		return 1 - p, 1 - q
	case 270:
		return 1 - q, p
	}
	return p, q
}

// applyCalibration maps normalised device (u, v) to wall millimetres with matrix c, as the Wall does.
func applyCalibration(fc game.FrameConfig, c [6]float64, u, v float64) (float64, float64) {
	u, v = orient(&fc, c[0]*u+c[1]*v+c[2], c[3]*u+c[4]*v+c[5])
	return float64(fc.XMM) + u*float64(fc.WidthMM), float64(fc.YMM) + v*float64(fc.HeightMM)
}

// orient turns calibrated device coordinates (0..1) by the frame's rotation and mirroring into
// frame coordinates (0..1); unrotate is its inverse.
func orient(fc *game.FrameConfig, u, v float64) (float64, float64) {
	switch fc.Rotation {
	case 90:
		u, v = 1-v, u
	case 180:
		u, v = 1-u, 1-v
	case 270:
		u, v = v, 1-u
	}
	if fc.MirrorX {
		u = 1 - u
	}
	if fc.MirrorY {
		v = 1 - v
	}
	return u, v
}

// solve3 solves a 3x3 system by Gaussian elimination with partial pivoting.
func solve3(a [3][3]float64, b [3]float64) ([3]float64, bool) {
	for c := 0; c < 3; c++ {
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return [3]float64{}, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < 3; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < 3; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [3]float64
	for r := 2; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < 3; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}

// ReadPoints reads calibration points: JSON Lines of {"u":U,"v":V,"x_mm":X,"y_mm":Y}.
func ReadPoints(r io.Reader, name string) ([]PointPair, error) {
	var pts []PointPair
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var p PointPair
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&p); err != nil {
			return nil, fmt.Errorf("%w: %s:%d: want {\"u\":U,\"v\":V,\"x_mm\":X,\"y_mm\":Y}: %v", ErrConfig, name, n, err)
		}
		pts = append(pts, p)
	}
	return pts, sc.Err()
}

// WriteCalibration sets `calibration = [...]` in the [[frames]] table named frame of the TOML
// file at path, keeping everything else (comments included) as it is. The new file is validated
// and written with durable.WriteFile, so a crash leaves either the old or the new config.
func WriteCalibration(path, frame string, c [6]float64) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	lines := strings.Split(string(data), "\n")
	line := fmt.Sprintf("calibration = [%.9g, %.9g, %.9g, %.9g, %.9g, %.9g]", c[0], c[1], c[2], c[3], c[4], c[5])
	start, end := -1, len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if start >= 0 && strings.HasPrefix(t, "[") {
			end = i
			break
		}
		if t == "[[frames]]" {
			for j := i + 1; j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "["); j++ {
				if k, v, ok := strings.Cut(lines[j], "="); ok && strings.TrimSpace(k) == "name" &&
					strings.Trim(strings.TrimSpace(strings.SplitN(v, "#", 2)[0]), `"'`) == frame {
					start = i
				}
			}
		}
	}
	if start < 0 {
		return fmt.Errorf("%w: %s has no [[frames]] table with name = %q", ErrConfig, path, frame)
	}
	done := false
	for i := start + 1; i < end; i++ {
		if k, _, ok := strings.Cut(lines[i], "="); ok && strings.TrimSpace(k) == "calibration" {
			lines[i], done = line, true
		}
	}
	if !done {
		lines = append(lines[:start+1], append([]string{line}, lines[start+1:]...)...)
	}
	out := []byte(strings.Join(lines, "\n"))
	if _, err := game.ParseConfig(out, path); err != nil {
		return fmt.Errorf("calibrated config would not load: %w", err)
	}
	if err := durable.WriteFile(path, out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

// Calibrator runs the interactive calibration of one frame: it shows the operator one crosshair at
// a time (Target) and takes the frame's next touch down as the device's reading of it. Feed it the
// frame's events from the Reader; once Done, Fit gives the matrix. Not safe for concurrent use.
type Calibrator struct {
	frame   int
	fc      game.FrameConfig
	targets [][2]float64 // wall mm
	pts     []PointPair
	info    *DeviceInfo
	x, y    uint16
}

// NewCalibrator returns a calibrator for frame index i with config fc: nine crosshairs at 10 %,
// 50 % and 90 % of the frame each way.
func NewCalibrator(i int, fc game.FrameConfig) *Calibrator {
	c := &Calibrator{frame: i, fc: fc}
	for _, fy := range []float64{0.1, 0.5, 0.9} {
		for _, fx := range []float64{0.1, 0.5, 0.9} {
			c.targets = append(c.targets, [2]float64{float64(fc.XMM) + fx*float64(fc.WidthMM), float64(fc.YMM) + fy*float64(fc.HeightMM)})
		}
	}
	return c
}

// Target returns the crosshair to touch now in wall mm, its number from 1 and the count; ok is
// false once every point is taken.
func (c *Calibrator) Target() (x, y float64, n, of int, ok bool) {
	if len(c.pts) >= len(c.targets) {
		return 0, 0, len(c.targets), len(c.targets), false
	}
	t := c.targets[len(c.pts)]
	return t[0], t[1], len(c.pts) + 1, len(c.targets), true
}

// Feed takes one frame event; a touch down on the calibrated frame records the current point.
// It reports whether every point has been taken.
func (c *Calibrator) Feed(fe FrameEvent) bool {
	if fe.Frame != c.frame {
		return c.Done()
	}
	if fe.Attach != nil {
		c.info, c.x, c.y = fe.Attach, fe.X, fe.Y
	}
	if fe.Ev.Kind == game.KindDown && c.info != nil && !c.Done() {
		ax, ay := c.info.Abs[c.x], c.info.Abs[c.y]
		t := c.targets[len(c.pts)]
		c.pts = append(c.pts, PointPair{
			U: axisFraction(fe.Ev.X, ax), V: axisFraction(fe.Ev.Y, ay),
			XMM: t[0], YMM: t[1]})
	}
	return c.Done()
}

// axisFraction is v's place in the axis's range, 0..1, computed in int64 and float64: the range
// of a device that declares the whole int32 span does not fit in int32.
func axisFraction(v int32, a AbsInfo) float64 {
	return float64(int64(v)-int64(a.Min)) / float64(int64(a.Max)-int64(a.Min))
}

// Done reports whether every point has been taken.
func (c *Calibrator) Done() bool { return len(c.pts) >= len(c.targets) }

// Fit fits the calibration from the points taken.
func (c *Calibrator) Fit() (Fit, error) { return FitCalibration(c.fc, c.pts) }

// Points returns the points taken so far (to save with --from-points later).
func (c *Calibrator) Points() []PointPair { return c.pts }
