//! The log store: reading with since/tail, following, closing, removing.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures_util::StreamExt;
use rswarm_exec::{LogLine, LogStore, LogStream};

fn line(secs: i64, text: &str) -> LogLine {
    let stream = if secs % 2 == 0 {
        LogStream::Stdout
    } else {
        LogStream::Stderr
    };
    LogLine {
        timestamp: Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
        stream,
        line: text.into(),
    }
}

fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.line.as_str()).collect()
}

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn read_with_tail_and_since() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path().join("nested/logs"));
    for i in 0..5 {
        logs.append("t1", line(i, &format!("line {i}"))).unwrap();
    }
    let all = logs.read("t1", None, None).await.unwrap();
    assert_eq!(
        all,
        (0..5)
            .map(|i| line(i, &format!("line {i}")))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        texts(&logs.read("t1", None, Some(2)).await.unwrap()),
        ["line 3", "line 4"]
    );
    let since = Some(line(2, "").timestamp);
    assert_eq!(
        texts(&logs.read("t1", since, None).await.unwrap()),
        ["line 2", "line 3", "line 4"]
    );
    assert_eq!(
        texts(&logs.read("t1", since, Some(1)).await.unwrap()),
        ["line 4"]
    );
    assert!(logs.read("t1", None, Some(0)).await.unwrap().is_empty());
    assert!(
        logs.read("other", None, None).await.unwrap().is_empty(),
        "no file, no lines"
    );
    logs.close("t1").unwrap();
    assert_eq!(
        logs.read("t1", None, None).await.unwrap().len(),
        5,
        "the marker is not a line"
    );
}

#[tokio::test]
async fn writer_and_append_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let w = logs.writer("t1").unwrap();
    w.append(&line(0, "a")).unwrap();
    logs.append("t1", line(1, "b")).unwrap();
    assert_eq!(w.path(), logs.path("t1").unwrap());
    assert_eq!(
        texts(&logs.read("t1", None, None).await.unwrap()),
        ["a", "b"]
    );
}

#[tokio::test]
async fn follow_sees_new_lines_and_ends_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    logs.append("t1", line(0, "old 0")).unwrap();
    logs.append("t1", line(1, "old 1")).unwrap();
    let mut follow = Box::pin(logs.follow("t1", None, Some(1)));
    assert_eq!(
        tokio::time::timeout(LIMIT, follow.next())
            .await
            .unwrap()
            .unwrap()
            .line,
        "old 1"
    );
    logs.append("t1", line(2, "new 2")).unwrap();
    assert_eq!(
        tokio::time::timeout(LIMIT, follow.next())
            .await
            .unwrap()
            .unwrap()
            .line,
        "new 2"
    );
    logs.append("t1", line(3, "new 3")).unwrap();
    logs.close("t1").unwrap();
    assert_eq!(
        tokio::time::timeout(LIMIT, follow.next())
            .await
            .unwrap()
            .unwrap()
            .line,
        "new 3"
    );
    assert!(
        tokio::time::timeout(LIMIT, follow.next())
            .await
            .unwrap()
            .is_none(),
        "ends after close"
    );
    // A follower arriving after the end gets the lines, then the end.
    let late: Vec<_> = tokio::time::timeout(LIMIT, logs.follow("t1", None, None).collect())
        .await
        .unwrap();
    assert_eq!(texts(&late), ["old 0", "old 1", "new 2", "new 3"]);
}

#[tokio::test]
async fn follow_ends_when_the_file_is_removed_or_missing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let missing: Vec<_> = tokio::time::timeout(LIMIT, logs.follow("none", None, None).collect())
        .await
        .unwrap();
    assert!(missing.is_empty());
    logs.append("t1", line(0, "a")).unwrap();
    let mut follow = Box::pin(logs.follow("t1", None, None));
    assert_eq!(
        tokio::time::timeout(LIMIT, follow.next())
            .await
            .unwrap()
            .unwrap()
            .line,
        "a"
    );
    logs.remove("t1").unwrap();
    assert!(
        tokio::time::timeout(LIMIT, follow.next())
            .await
            .unwrap()
            .is_none()
    );
    assert!(!logs.path("t1").unwrap().exists());
    logs.remove("t1").unwrap();
    assert!(logs.read("t1", None, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn since_applies_to_followed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    for i in 0..3 {
        logs.append("t1", line(i, &i.to_string())).unwrap();
    }
    logs.close("t1").unwrap();
    let lines: Vec<_> = logs
        .follow("t1", Some(line(1, "").timestamp), None)
        .collect()
        .await;
    assert_eq!(texts(&lines), ["1", "2"]);
}

#[test]
fn task_ids_must_be_plain_names() {
    let logs = LogStore::new("/tmp/rswarm-unused");
    for bad in ["", ".", "..", "a/b", "../x", "a\0b"] {
        assert!(logs.path(bad).is_err(), "{bad:?}");
        assert!(logs.append(bad, line(0, "x")).is_err(), "{bad:?}");
    }
    assert!(logs.path("abc.def-1").is_ok());
}
