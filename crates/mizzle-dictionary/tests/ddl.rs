//! Dictionary records follow their transaction.

use std::sync::Arc;

use mizzle_dictionary::{ColumnDef, Dictionary, Relation, TableDef};
use mizzle_txn::{TxnManager, TxnOptions};
use mizzle_types::SqlType;
use storage_memory::MemoryEngine;

fn table(d: &Dictionary, name: &str) -> Relation {
    Relation::Table(Arc::new(TableDef {
        schema: "main".into(),
        name: name.into(),
        space: d.alloc_space(),
        columns: vec![ColumnDef {
            name: "a".into(),
            ty: SqlType::INT,
            nullable: true,
            default: Some("7".into()),
            auto_increment: false,
            comment: String::new(),
            collation: mizzle_types::Collation::LEGACY,
            generated: None,
            on_update: None,
            hidden: false,
        }],
        primary_key: vec![0],
        indexes: vec![],
        checks: vec![],
        auto_increment: None,
        auto_increment_start: 1,
        engine: "memory".into(),
        comment: String::new(),
        version: d.next_version(),
        foreign_keys: vec![],
        referenced_by: vec![],
        collation: mizzle_types::Collation::LEGACY,
    }))
}

#[test]
fn created_table_disappears_on_rollback() {
    let m = TxnManager::new(Arc::new(MemoryEngine::new()));
    let d = Dictionary::new();
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    d.create_schema(&t, "main", mizzle_types::Collation::LEGACY, false).expect("schema");
    d.create_relation(&t, &table(&d, "T1")).expect("create");
    t.begin_statement().expect("stmt");
    assert!(d.get_relation(&t, "main", "t1").expect("get").is_some(), "names are case-insensitive");
    t.rollback();
    let r = m.begin(TxnOptions::default());
    r.begin_statement().expect("stmt");
    assert!(d.get_relation(&r, "main", "t1").expect("get").is_none());
    assert!(!d.schema_exists(&r, "main").expect("get"));
}

#[test]
fn definitions_round_trip_and_list_in_order() {
    let m = TxnManager::new(Arc::new(MemoryEngine::new()));
    let d = Dictionary::new();
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    d.create_schema(&t, "main", mizzle_types::Collation::LEGACY, false).expect("schema");
    let b = table(&d, "b");
    d.create_relation(&t, &b).expect("create");
    d.create_relation(&t, &table(&d, "a")).expect("create");
    assert!(d.create_relation(&t, &table(&d, "A")).is_err(), "duplicate name");
    t.commit_blocking().expect("commit");
    let r = m.begin(TxnOptions::default());
    r.begin_statement().expect("stmt");
    let names: Vec<String> = d.list_relations(&r, "main").expect("list").iter().map(|x| x.name().to_string()).collect();
    assert_eq!(names, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(d.get_relation(&r, "main", "b").expect("get"), Some(b));
}
