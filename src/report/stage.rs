//! `find --stage`, rendered: the found document plus the stage's archives and missing pairs.

use serde::Serialize;
use serde_json::Value;

use super::json::{self, FoundDoc, Status};
use super::{human, markdown, Render};
use crate::commands::stage::{StageFound, StageSelection};

use crate::commands::Conclusion;

#[derive(Serialize)]
struct StageDoc<'a> {
    #[serde(flatten)]
    found: FoundDoc<'a>,
    #[serde(flatten)]
    selection: Option<&'a StageSelection>,
}

impl Render for StageFound {
    fn json(&self, server_url: &str) -> Value {
        let mut found = FoundDoc::new(&self.found, server_url);
        found.status = Status::of(self.found());
        json::value(&StageDoc { found, selection: self.selection.as_ref() })
    }
    fn human(&self) -> String {
        let mut s = human::found(&self.found);
        if let Some(sel) = &self.selection {
            s += &sel.summary();
        }
        s
    }
    fn markdown(&self) -> String {
        markdown::found(&self.found, None)
    }
    fn message(&self) -> Option<String> {
        match &self.selection {
            _ if self.found() => None,
            Some(s) => Some(format!("the run holds no archive of stage {}", s.stage)),
            None => self.found.message(),
        }
    }
}
