//! A small SVG writer for cumulative distributions: one step line per series value, time on a
//! logarithmic axis as in the Raft paper's Figure 16, shares on a linear one. Hand-written rather than a plotting
//! crate: a few dozen lines of SVG need no font stack, no new dependency, and the output is
//! byte-for-byte the same on every machine.

use crate::report::escape_html as escape;

const W: f64 = 760.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// The SVG of the CDFs of `lines`: (label, sorted values in ns, trials), on a logarithmic axis
/// of milliseconds. A line reaches `measured / trials`: censored trials keep it below 100%.
pub(super) fn cdf(title: &str, metric: &str, lines: &[(String, Vec<f64>, usize)]) -> String {
    let all = lines.iter().flat_map(|(_, v, _)| v.iter().copied());
    let (lo, hi) = all.fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Whole decades of milliseconds around the data.
    let decade = |ns: f64, up: bool| {
        let ms = (ns.max(1.0) / 1e6).max(1e-3);
        let e = ms.log10();
        if up { e.ceil() } else { e.floor() }
    };
    let (d0, mut d1) = if hi == 0.0 {
        (1.0, 3.0)
    } else {
        (decade(lo, false), decade(hi, true))
    };
    if d1 <= d0 {
        d1 = d0 + 1.0;
    }
    let pw = W - LEFT - RIGHT;
    let x = move |ns: f64| {
        let ms = (ns.max(1.0) / 1e6).max(1e-3);
        LEFT + (ms.log10() - d0) / (d1 - d0) * pw
    };
    // Ticks at 1, 2, 5 of each decade.
    let mut ticks = Vec::new();
    let mut d = d0;
    while d <= d1 {
        for m in [1.0, 2.0, 5.0] {
            let ms = 10f64.powf(d) * m;
            if ms.log10() > d1 + 1e-9 {
                break;
            }
            ticks.push((LEFT + (ms.log10() - d0) / (d1 - d0) * pw, trim(ms)));
        }
        d += 1.0;
    }
    draw(
        title,
        &format!("{metric} (ms, log scale)"),
        lines,
        &x,
        &ticks,
    )
}

/// The SVG of the CDFs of `lines` whose values are shares from 0 to 1, on a linear axis.
pub(super) fn cdf_linear(title: &str, metric: &str, lines: &[(String, Vec<f64>, usize)]) -> String {
    let hi = lines
        .iter()
        .flat_map(|(_, v, _)| v.iter().copied())
        .fold(0.0f64, f64::max);
    // The smallest of 1, 2 and 5 hundredths, of tenths, or 1 that holds every value, so that
    // small shares stay readable.
    let top = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
        .into_iter()
        .find(|&t| hi <= t)
        .unwrap_or(hi);
    let pw = W - LEFT - RIGHT;
    let x = move |v: f64| LEFT + v / top * pw;
    let ticks: Vec<(f64, String)> = (0..=4)
        .map(|q| {
            let v = top * q as f64 / 4.0;
            let text = format!("{v:.4}");
            (
                x(v),
                text.trim_end_matches('0').trim_end_matches('.').to_string(),
            )
        })
        .collect();
    draw(title, metric, lines, &x, &ticks)
}

fn draw(
    title: &str,
    axis: &str,
    lines: &[(String, Vec<f64>, usize)],
    x: &dyn Fn(f64) -> f64,
    ticks: &[(f64, String)],
) -> String {
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let y = |frac: f64| TOP + (1.0 - frac) * ph;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        LEFT + pw / 2.0,
        escape(title)
    );
    // Grid and ticks; 0-100% by quarters.
    for (px, text) in ticks {
        out += &format!(
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            TOP + ph,
            TOP + ph + 16.0,
            escape(text)
        );
    }
    for q in 0..=4 {
        let py = y(q as f64 / 4.0);
        out += &format!(
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}%</text>\n",
            LEFT + pw,
            LEFT - 6.0,
            py + 4.0,
            q * 25
        );
    }
    out += &format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"black\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n\
         <text x=\"18\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {:.1})\">cumulative percent of trials</text>\n",
        LEFT + pw / 2.0,
        H - 16.0,
        escape(axis),
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    for (i, (label, values, trials)) in lines.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        if !values.is_empty() {
            let n = (*trials).max(1) as f64;
            let mut path = format!("M{:.1},{:.1}", x(values[0]), y(0.0));
            for (k, &v) in values.iter().enumerate() {
                path += &format!(
                    " L{:.1},{:.1} L{:.1},{:.1}",
                    x(v),
                    y(k as f64 / n),
                    x(v),
                    y((k + 1) as f64 / n)
                );
            }
            out += &format!(
                "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>\n"
            );
        }
        let ly = TOP + 14.0 + 18.0 * i as f64;
        let lx = LEFT + pw + 14.0;
        out += &format!(
            "<line x1=\"{lx:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\n\
             <text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>\n",
            ly - 4.0,
            lx + 22.0,
            ly - 4.0,
            lx + 28.0,
            escape(&legend(label, values.len(), *trials))
        );
    }
    out += "</svg>\n";
    out
}

/// A line's legend; one whose trials did not all measure says how many did.
fn legend(label: &str, measured: usize, trials: usize) -> String {
    if measured == trials {
        label.to_string()
    } else {
        format!("{label} ({measured}/{trials})")
    }
}

fn trim(ms: f64) -> String {
    let s = format!("{ms:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_drawn_on_a_linear_axis_just_wide_enough() {
        let svg = cdf_linear(
            "t",
            "stale_read_rate",
            &[("a".into(), vec![0.0, 0.03, 0.15], 3)],
        );
        // 0.15 fits under 0.2: ticks by 0.05, the rightmost at the plot's right edge.
        assert!(
            svg.contains(">0.05</text>") && svg.contains(">0.2</text>"),
            "{svg}"
        );
        assert!(!svg.contains(">1</text>"), "{svg}");
        assert!(svg.contains(&format!("x=\"{:.1}\"", W - RIGHT)), "{svg}");
        assert_eq!(svg.matches("<path").count(), 1);
    }

    #[test]
    fn each_line_is_a_path_that_climbs_to_its_measured_share() {
        let svg = cdf(
            "t",
            "m",
            &[
                ("a".into(), vec![100e6, 200e6], 2),
                ("b".into(), vec![150e6], 2),
            ],
        );
        assert_eq!(svg.matches("<path").count(), 2);
        // Line a ends at 100% (y = TOP), line b at 50% of the plot's height.
        assert!(svg.contains(&format!(",{TOP:.1}\" fill=\"none\"")), "{svg}");
        let half = TOP + (H - TOP - BOTTOM) / 2.0;
        assert!(
            svg.contains(&format!(",{half:.1}\" fill=\"none\"")),
            "{svg}"
        );
        // b measured one trial of two, and its legend says so.
        assert!(
            svg.contains(">a</text>") && svg.contains(">b (1/2)</text>"),
            "{svg}"
        );
    }
}
