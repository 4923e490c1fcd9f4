//! `timeseries.csv`: one row per simulated minute of a run, for spreadsheets.
//!
//! Columns: the minute from opening and its time of day, shoppers inside, and per minute
//! those who entered, left and bought, sales (major currency units), lost items and the
//! door counters' count; then the open lanes, everyone waiting in a checkout queue, and
//! each queue's length (`queue[L1]`, ..., in `StoreKpis::queues` order).

use std::io::Write;
use std::path::Path;

use storetwin_actors::store::day::DayRun;
use storetwin_eventlog::atomic::write_atomic;
use storetwin_scenarios::Scenario;

/// Writes the minute-by-minute samples of `run` (of `scenario`) to `path` (atomically).
pub fn write_timeseries(path: &Path, scenario: &Scenario, run: &DayRun) -> crate::Result<()> {
    write_atomic(path, |w| write_rows(w, scenario, run))?;
    Ok(())
}

fn write_rows(w: &mut dyn Write, scenario: &Scenario, run: &DayRun) -> std::io::Result<()> {
    let k = &run.kpis;
    write!(w, "minute,time,occupancy,entered,left,buyers,sales,lost_items,door_count,open_lanes,queue_total")?;
    for q in &k.queues {
        write!(w, ",queue[{}]", q.name.replace(',', " "))?;
    }
    writeln!(w)?;
    let mut previous = None;
    for s in &run.samples {
        let minute = s.at.as_nanos() / 60_000_000_000;
        let p = previous.unwrap_or(s);
        write!(
            w,
            "{minute},{},{},{},{},{},{:.2},{},{},{},{}",
            crate::time_of_day(scenario.world.open_at_s + (s.at.as_nanos() / 1_000_000_000) as u32),
            s.occupancy,
            s.entered - p.entered,
            s.left - p.left,
            s.buyers - p.buyers,
            (s.sales - p.sales).as_major(),
            s.lost_items - p.lost_items,
            s.door_count - p.door_count,
            s.open_lanes,
            s.queue_total
        )?;
        for len in &s.queue_lengths {
            write!(w, ",{len}")?;
        }
        writeln!(w)?;
        previous = Some(s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use storetwin_actors::store::day::run_day;
    use storetwin_engine::Seed;

    use super::*;

    #[test]
    fn a_row_a_minute_whose_arrivals_add_up_to_the_footfall() {
        let scenario = crate::weekday_opening(1);
        let run = run_day(&scenario.world, Seed(5)).expect("the hour runs");
        let mut out = Vec::new();
        write_rows(&mut out, &scenario, &run).expect("writes to memory");
        let text = String::from_utf8(out).expect("UTF-8");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
        assert_eq!(header.len(), 11 + run.kpis.queues.len());
        assert_eq!(header[11], format!("queue[{}]", run.kpis.queues[0].name));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 61, "minutes 0 to 60");
        assert!(rows.iter().all(|r| r.len() == header.len()));
        assert_eq!((rows[0][1], rows[60][1]), ("08:00", "09:00"));
        let entered: f64 = rows.iter().map(|r| r[3].parse::<f64>().expect("a count")).sum();
        assert_eq!(entered, run.kpis.footfall.truth);
    }
}
