package main

import (
	"fmt"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// writePlots writes the PNG plots referenced by the report into dir.
func writePlots(dir string, r *results) error {
	var rps plotter.Values
	for _, s := range systemOrder {
		rps = append(rps, r.medianRPS(s))
	}
	if err := barPlot(filepath.Join(dir, "bench-throughput.png"), "Closed-loop throughput (wrk, median round)",
		"requests/s", systemOrder, []string{"rps"}, []plotter.Values{rps}); err != nil {
		return err
	}
	closed, open := make([]plotter.Values, 3), make([]plotter.Values, 3)
	for _, s := range systemOrder {
		for i, p := range []func(wrkResult) int64{wrkP50, wrkP99, wrkP999} {
			closed[i] = append(closed[i], r.closedPct(s, p)/1e3)
		}
		for i, p := range []func(openResult) time.Duration{vegP50, vegP99, vegP999} {
			open[i] = append(open[i], r.openPct(s, p)/1e3)
		}
	}
	pcts := []string{"p50", "p99", "p99.9"}
	if err := barPlot(filepath.Join(dir, "bench-latency.png"), "Closed-loop latency (wrk -c32)", "ms",
		systemOrder, pcts, closed); err != nil {
		return err
	}
	if err := barPlot(filepath.Join(dir, "bench-latency-open.png"),
		fmt.Sprintf("Open-loop latency at %d req/s (vegeta)", r.OpenRate), "ms", systemOrder, pcts, open); err != nil {
		return err
	}
	return propagationPlot(filepath.Join(dir, "bench-propagation.png"), r)
}

// barPlot draws grouped bars: one group per category, one bar per series.
func barPlot(path, title, ylabel string, categories, series []string, values []plotter.Values) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	w := vg.Points(60 / float64(len(series)))
	for i, v := range values {
		b, err := plotter.NewBarChart(v, w)
		if err != nil {
			return err
		}
		b.LineStyle.Width = 0
		b.Color = plotutil.Color(i)
		b.Offset = w * vg.Length(float64(i)-float64(len(values)-1)/2)
		p.Add(b)
		if len(series) > 1 {
			p.Legend.Add(series[i], b)
		}
	}
	p.Legend.Top = true
	p.NominalX(categories...)
	return p.Save(7*vg.Inch, 4*vg.Inch, path)
}

// propagationPlot draws apply-to-first-200 (median and max) by table size.
func propagationPlot(path string, r *results) error {
	var names []string
	med, mx := plotter.Values{}, plotter.Values{}
	for _, p := range r.Propagation {
		names = append(names, fmt.Sprintf("%d routes", p.Routes))
		med = append(med, float64(p.median().Milliseconds()))
		mx = append(mx, float64(p.max().Milliseconds()))
	}
	return barPlot(path, "A Route applied (standalone file) to its first 200", "ms",
		names, []string{"median", "max"}, []plotter.Values{med, mx})
}
