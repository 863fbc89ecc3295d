//! Drawing a [`Chart`] with plotters: the palette, the embedded font, axes, legends, and
//! every kind of [`Drawing`], to SVG and to PNG.

#[cfg(not(target_arch = "wasm32"))]
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
#[cfg(not(target_arch = "wasm32"))]
use plotters::style::{FontStyle, register_font};

use super::{Axis, Chart, Drawing};

/// Okabe-Ito colours, ordered so that neighbours also differ in lightness.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(0, 0, 0),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `DejaVu` Sans, the only font the charts use: text is measured the same everywhere.
#[cfg(not(target_arch = "wasm32"))]
static FONT: &[u8] = include_bytes!("font/DejaVuSans.ttf");

/// In the browser, plotters measures text with the page's own canvas instead.
#[cfg(target_arch = "wasm32")]
fn register_fonts() {}

#[cfg(not(target_arch = "wasm32"))]
fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The font is part of the binary: it always parses.
            let _ = register_font("sans-serif", style, FONT);
        }
    });
}

/// The SVG size of every chart, and the PNG size (a 16:9 slide).
pub(super) const SVG_SIZE: (u32, u32) = (960, 540);
/// The PNG size: the same drawing at twice the SVG's resolution.
pub(super) const PNG_SIZE: (u32, u32) = (1920, 1080);

type Plane = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// Pixel sizes and fonts at a drawing's scale: 1 for the SVG, 2 for the PNG.
#[derive(Clone, Copy)]
struct Scale(f64);

impl Scale {
    /// `n` SVG pixels.
    fn px(self, n: f64) -> u32 {
        (n * self.0).round() as u32
    }

    /// The charts' font at `n` SVG pixels.
    fn font(self, n: f64) -> FontDesc<'static> {
        ("sans-serif", n * self.0).into_font()
    }
}
type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Axes with their labels and ticks, and only the major grid lines.
fn mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Plane>,
    x: &Axis,
    y: &Axis,
    s: Scale,
) -> DrawResult<DB> {
    chart
        .configure_mesh()
        .x_desc(&x.label)
        .y_desc(&y.label)
        .x_label_formatter(&|v| x.tick(*v))
        .y_label_formatter(&|v| y.tick(*v))
        .label_style(s.font(13.0))
        .axis_desc_style(s.font(14.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()
}

/// The legend, on a light box at `position`.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Plane>,
    position: SeriesLabelPosition,
    font: FontDesc<'_>,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(font)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

impl Chart {
    /// The chart as an SVG document.
    pub fn svg(&self) -> String {
        register_fonts();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, SVG_SIZE).into_drawing_area();
            // Drawing into memory with registered fonts does not fail; a failure would
            // only leave the chart incomplete.
            let _ = self.draw(&root, 1.0);
            let _ = root.present();
        }
        out
    }

    /// The chart as a PNG image of `PNG_SIZE`.
    pub fn png(&self) -> Vec<u8> {
        register_fonts();
        let (w, h) = PNG_SIZE;
        let mut pixels = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
            let _ = self.draw(&root, f64::from(w) / f64::from(SVG_SIZE.0));
            let _ = root.present();
        }
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder
                .write_header()
                .expect("a PNG header writes to memory");
            writer
                .write_image_data(&pixels)
                .expect("PNG data writes to memory");
        }
        out
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scale: f64,
    ) -> DrawResult<DB> {
        let scale = Scale(scale);
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, scale.font(20.0))
            .margin(scale.px(14.0))
            .x_label_area_size(scale.px(48.0))
            .y_label_area_size(scale.px(64.0));
        match &self.drawing {
            Drawing::Lines {
                x,
                y,
                series,
                references,
            } => lines(&mut builder, scale, x, y, series, references)?,
            Drawing::Stacked { x, layers } => stacked(&mut builder, scale, x, layers)?,
            Drawing::Histogram {
                x,
                bins,
                marker,
                note,
            } => histogram(&mut builder, scale, x, bins, marker, note)?,
            Drawing::HeatMap { x, y, cells } => heat_map(&mut builder, scale, x, y, cells)?,
            Drawing::Scatter {
                x,
                y,
                points,
                limit,
            } => scatter(&mut builder, scale, x, y, points, limit)?,
            Drawing::Forest { x, rows } => forest(&mut builder, scale, x, rows)?,
        }
        root.present()
    }
}

/// Lines over time, each with its band and markers, above dashed reference lines.
fn lines<DB: DrawingBackend>(
    builder: &mut ChartBuilder<'_, '_, DB>,
    scale: Scale,
    x: &Axis,
    y: &Axis,
    series: &[super::Series],
    references: &[(f64, String)],
) -> DrawResult<DB> {
    let mut chart = builder.build_cartesian_2d(x.range.0..x.range.1, y.range.0..y.range.1)?;
    mesh(&mut chart, x, y, scale)?;
    let grey = RGBColor(120, 120, 120);
    for (value, label) in references {
        chart.draw_series(DashedLineSeries::new(
            [(x.range.0, *value), (x.range.1, *value)],
            scale.px(6.0),
            scale.px(4.0),
            grey.stroke_width(scale.px(1.0)),
        ))?;
        if label.is_empty() {
            continue;
        }
        // Above its line, not struck through by it.
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (x.range.0 + (x.range.1 - x.range.0) * 0.005, *value),
            scale
                .font(11.0)
                .color(&grey)
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        )))?;
    }
    if !references.is_empty() {
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label("report thresholds")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1))
            });
    }
    for (i, s) in series.iter().enumerate() {
        let c = colour(s.colour.unwrap_or(i));
        if !s.band.is_empty() {
            let mut polygon: Vec<(f64, f64)> = s.band.iter().map(|&(x, _, hi)| (x, hi)).collect();
            polygon.extend(s.band.iter().rev().map(|&(x, lo, _)| (x, lo)));
            chart.draw_series(std::iter::once(Polygon::new(polygon, c.mix(0.18))))?;
        }
        for &m in &s.markers {
            chart.draw_series(DashedLineSeries::new(
                [(m, y.range.0), (m, y.range.1)],
                scale.px(3.0),
                scale.px(3.0),
                c.stroke_width(scale.px(2.0)),
            ))?;
        }
        let width = scale.px(if i % 2 == 0 { 3.0 } else { 2.0 });
        chart
            .draw_series(LineSeries::new(
                s.line.iter().copied(),
                c.stroke_width(width),
            ))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    }
    legend(
        &mut chart,
        SeriesLabelPosition::LowerRight,
        scale.font(12.0),
    )?;
    Ok(())
}

/// Shares stacked to 1, one filled layer each.
fn stacked<DB: DrawingBackend>(
    builder: &mut ChartBuilder<'_, '_, DB>,
    scale: Scale,
    x: &Axis,
    layers: &[(String, Vec<(f64, f64)>)],
) -> DrawResult<DB> {
    let mut chart = builder.build_cartesian_2d(x.range.0..x.range.1, 0.0..1.0)?;
    mesh(
        &mut chart,
        x,
        &Axis::share("share of installed instances"),
        scale,
    )?;
    let points = layers.first().map_or(0, |l| l.1.len());
    let mut below = vec![0.0; points];
    for (i, (label, layer)) in layers.iter().enumerate() {
        let c = colour(i);
        let top: Vec<f64> = below.iter().zip(layer).map(|(b, &(_, s))| b + s).collect();
        let mut polygon: Vec<(f64, f64)> =
            layer.iter().zip(&top).map(|(&(x, _), &t)| (x, t)).collect();
        polygon.extend(layer.iter().zip(&below).rev().map(|(&(x, _), &b)| (x, b)));
        chart
            .draw_series(std::iter::once(Polygon::new(polygon, c.mix(0.75).filled())))?
            .label(label.clone())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.mix(0.75).filled())
            });
        below = top;
    }
    legend(
        &mut chart,
        SeriesLabelPosition::LowerRight,
        scale.font(12.0),
    )?;
    Ok(())
}

/// Replications per bin, with a marked value and its interval.
fn histogram<DB: DrawingBackend>(
    builder: &mut ChartBuilder<'_, '_, DB>,
    scale: Scale,
    x: &Axis,
    bins: &[(f64, f64, u64)],
    marker: &Option<(String, f64, Option<f64>, Option<f64>)>,
    note: &Option<String>,
) -> DrawResult<DB> {
    let top = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = builder.build_cartesian_2d(x.range.0..x.range.1, 0.0..top)?;
    let count = Axis {
        label: "replications".into(),
        range: (0.0, top),
        ..Axis::default()
    };
    mesh(&mut chart, x, &count, scale)?;
    if let Some(note) = note {
        chart.draw_series(std::iter::once(Text::new(
            note.clone(),
            (f64::midpoint(x.range.0, x.range.1), top / 2.0),
            scale
                .font(15.0)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )))?;
    }
    let c = colour(0);
    if let Some((_, _, Some(lo), Some(hi))) = marker {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*lo, 0.0), (*hi, top)],
            colour(1).mix(0.2).filled(),
        )))?;
    }
    chart
        .draw_series(
            bins.iter().map(|&(lo, hi, n)| {
                Rectangle::new([(lo, 0.0), (hi, n as f64)], c.mix(0.8).filled())
            }),
        )?
        .label("replications per bin")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.mix(0.8).filled()));
    if let Some((label, value, ..)) = marker {
        let m = colour(5);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(*value, 0.0), (*value, top)],
                m.stroke_width(scale.px(3.0)),
            )))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], m.stroke_width(3)));
    }
    legend(
        &mut chart,
        SeriesLabelPosition::UpperRight,
        scale.font(12.0),
    )?;
    Ok(())
}

/// A grid of values, coloured on the viridis scale and written in each cell.
fn heat_map<DB: DrawingBackend>(
    builder: &mut ChartBuilder<'_, '_, DB>,
    scale: Scale,
    x: &(String, Vec<String>),
    y: &(String, Vec<String>),
    cells: &[Vec<Option<f64>>],
) -> DrawResult<DB> {
    let (columns, rows) = (x.1.len().max(1) as f64, y.1.len().max(1) as f64);
    let values = cells.iter().flatten().flatten().copied();
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let mut chart = builder
        .y_label_area_size(scale.px(120.0))
        .build_cartesian_2d(0.0..columns, 0.0..rows)?;
    let at_centre = |labels: &[String], v: f64| {
        let i = (v - 0.5).round();
        if (v - 0.5 - i).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc(&x.0)
        .y_desc(&y.0)
        .x_labels(x.1.len() * 2 + 1)
        .y_labels(y.1.len() * 2 + 1)
        .x_label_formatter(&|v| at_centre(&x.1, *v))
        .y_label_formatter(&|v| at_centre(&y.1, *v))
        .label_style(scale.font(13.0))
        .axis_desc_style(scale.font(14.0))
        .disable_mesh()
        .draw()?;
    for (r, row) in cells.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (x0, y0) = (c as f64, r as f64);
            let (fill, text, ink) = match cell {
                Some(v) => {
                    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                    let colour: RGBColor = ViridisRGB.get_color(t as f32);
                    (
                        colour,
                        format!("{v:.1}"),
                        if t > 0.6 { BLACK } else { WHITE },
                    )
                }
                None => (RGBColor(200, 200, 200), "censored".into(), BLACK),
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                fill.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                text,
                (x0 + 0.5, y0 + 0.5),
                scale
                    .font(13.0)
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
    }
    Ok(())
}

/// Labelled points, the Pareto front joined, beside a dashed limit.
fn scatter<DB: DrawingBackend>(
    builder: &mut ChartBuilder<'_, '_, DB>,
    scale: Scale,
    x: &Axis,
    y: &Axis,
    points: &[(String, f64, f64, bool)],
    limit: &Option<(f64, String)>,
) -> DrawResult<DB> {
    let mut chart = builder.build_cartesian_2d(x.range.0..x.range.1, y.range.0..y.range.1)?;
    mesh(&mut chart, x, y, scale)?;
    let grey = RGBColor(120, 120, 120);
    if let Some((value, label)) = limit {
        chart
            .draw_series(DashedLineSeries::new(
                [(*value, y.range.0), (*value, y.range.1)],
                scale.px(6.0),
                scale.px(4.0),
                grey.stroke_width(scale.px(1.0)),
            ))?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1))
            });
    }
    let mut front: Vec<(f64, f64)> = points.iter().filter(|p| p.3).map(|p| (p.1, p.2)).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    let c = colour(0);
    chart
        .draw_series(LineSeries::new(front, c.stroke_width(scale.px(2.0))))?
        .label("Pareto front")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    for (label, px_, py, on_front) in points {
        let style = if *on_front { c.filled() } else { grey.filled() };
        chart.draw_series(std::iter::once(Circle::new(
            (*px_, *py),
            scale.px(5.0),
            style,
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*px_, *py),
            scale
                .font(11.0)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        )))?;
    }
    legend(
        &mut chart,
        SeriesLabelPosition::UpperRight,
        scale.font(12.0),
    )?;
    Ok(())
}

/// One estimate and interval per row, about a dashed zero.
fn forest<DB: DrawingBackend>(
    builder: &mut ChartBuilder<'_, '_, DB>,
    scale: Scale,
    x: &Axis,
    rows: &[(String, f64, f64, f64)],
) -> DrawResult<DB> {
    let n = rows.len().max(1) as f64;
    let mut chart = builder
        .y_label_area_size(scale.px(260.0))
        .build_cartesian_2d(x.range.0..x.range.1, 0.0..n)?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    chart
        .configure_mesh()
        .x_desc(&x.label)
        .y_labels(rows.len() * 2 + 1)
        .y_label_formatter(&|v| {
            let i = (n - v - 0.5).round();
            if (n - v - 0.5 - i).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .label_style(scale.font(12.0))
        .axis_desc_style(scale.font(14.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart.draw_series(DashedLineSeries::new(
        [(0.0, 0.0), (0.0, n)],
        scale.px(6.0),
        scale.px(4.0),
        BLACK.mix(0.6).stroke_width(scale.px(1.0)),
    ))?;
    for (i, (_, estimate, lo, hi)) in rows.iter().enumerate() {
        let y = n - i as f64 - 0.5;
        let c = colour(i);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(*lo, y), (*hi, y)],
            c.stroke_width(scale.px(3.0)),
        )))?;
        chart.draw_series(std::iter::once(Circle::new(
            (*estimate, y),
            scale.px(5.0),
            c.filled(),
        )))?;
    }
    Ok(())
}
