//! The remote mode's engine list editor, through its widgets (`egui_kittest`): engines added,
//! edited and removed are saved to the list's file (validated, written whole) and driven from
//! then on; a bad list is refused with the engine it names and the file stays as it was.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use yardline_operator::remote::{EngineEntry, RemoteApp, load_list, save_list, tally_map};

/// A few frames: a window opened on one frame is laid out on the next.
fn steps(h: &mut Harness<'static, RemoteApp>) {
    for _ in 0..3 {
        h.step();
    }
}

fn typed(h: &mut Harness<'static, RemoteApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    steps(h);
    h.get_by_label(label).type_text(text);
    steps(h);
}

#[test]
fn engines_are_added_edited_and_removed_and_saved_to_the_list() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("engines.json");
    // Addresses nobody listens on: the editor works whatever the engines do.
    let first = EngineEntry {
        name: "CAM 1".into(),
        addr: "127.0.0.1:9".into(),
        token: Some("t1".into()),
        tally_address: Some(4),
    };
    save_list(&path, std::slice::from_ref(&first)).unwrap();
    let list = load_list(&path).unwrap();
    let app_path = path.clone();
    let mut h = Harness::builder()
        .with_size([1000.0, 700.0])
        .build_eframe(move |_cc| RemoteApp::new(list, None, tally_map()).with_list_path(app_path));
    steps(&mut h);
    h.get_by_label("Edit engines").click();
    steps(&mut h);
    h.get_by_label("Add engine").click();
    steps(&mut h);
    typed(&mut h, "Name 2", "CAM 2");
    typed(&mut h, "Address 2", "127.0.0.1:7002");
    typed(&mut h, "Token 2", "secret-2");
    h.get_by_label("Save engines").click();
    steps(&mut h);
    let saved = load_list(&path).unwrap();
    assert_eq!(
        saved,
        vec![
            first.clone(),
            EngineEntry {
                name: "CAM 2".into(),
                addr: "127.0.0.1:7002".into(),
                token: Some("secret-2".into()),
                tally_address: None,
            }
        ]
    );
    assert_eq!(
        h.state().fleet().entries(),
        saved,
        "the app drives the saved list"
    );
    assert!(h.state().message().unwrap().contains("saved"));

    // A bad address is refused, naming the engine; the file is untouched.
    h.get_by_label("Edit engines").click();
    steps(&mut h);
    typed(&mut h, "Address 1", "x");
    h.get_by_label("Save engines").click();
    steps(&mut h);
    let message = h.state().message().unwrap().to_owned();
    assert!(
        message.contains("engine 1") && message.contains("HOST:PORT"),
        "{message}"
    );
    assert_eq!(load_list(&path).unwrap(), saved);
    assert_eq!(h.state().fleet().entries(), saved);
    // Closed without saving; a name given twice is refused too.
    h.get_by_label("Close editor").click();
    steps(&mut h);
    h.get_by_label("Edit engines").click();
    steps(&mut h);
    h.get_by_label("Add engine").click();
    steps(&mut h);
    typed(&mut h, "Name 3", "CAM 1");
    typed(&mut h, "Address 3", "127.0.0.1:7003");
    h.get_by_label("Save engines").click();
    steps(&mut h);
    let message = h.state().message().unwrap().to_owned();
    assert!(
        message.contains("engine 3") && message.contains("taken"),
        "{message}"
    );
    assert_eq!(load_list(&path).unwrap(), saved);

    // The first engine removed, the second renamed.
    h.get_by_label("Close editor").click();
    steps(&mut h);
    h.get_by_label("Edit engines").click();
    steps(&mut h);
    h.get_by_label("Remove 1").click();
    steps(&mut h);
    typed(&mut h, "Name 1", " wide");
    h.get_by_label("Save engines").click();
    steps(&mut h);
    let saved = load_list(&path).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].name, "CAM 2 wide");
    assert_eq!(saved[0].token.as_deref(), Some("secret-2"));
    assert_eq!(h.state().fleet().engines.len(), 1);
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().count() == 1,
        "no temporary file left"
    );
}
