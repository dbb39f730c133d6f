#!/usr/bin/env python3
"""Tests of module_cycles.py on small crates written to a temporary dir.

Run: python3 -m unittest discover -s tests/tools
"""

import io
import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import module_cycles  # noqa: E402


class CrateTest(unittest.TestCase):
    def crate(self, files: dict[str, str], include_tests: bool = False) -> module_cycles.Crate:
        root = self.enterContext(tempfile.TemporaryDirectory())
        for rel, text in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))
        return module_cycles.Crate(root, include_tests)

    def edges(self, files: dict[str, str], include_tests: bool = False) -> set[tuple[str, str]]:
        crate = self.crate(files, include_tests)
        return {(crate.files[e.src].rel, crate.files[e.dst].rel) for e in crate.edges()}

    def report(self, files: dict[str, str]) -> tuple[int, str]:
        out = io.StringIO()
        status = module_cycles.report(self.crate(files), out)
        return status, out.getvalue()


class Edges(CrateTest):
    def test_use_and_code_paths_are_edges(self):
        edges = self.edges(
            {
                "lib.rs": "mod a;\nmod b;\nmod c;\n",
                "a.rs": "use crate::b::Thing;\nfn f() { crate::c::g(); }\n",
                "b.rs": "pub struct Thing;\n",
                "c.rs": "pub fn g() {}\n",
            }
        )
        self.assertEqual(edges, {("a.rs", "b.rs"), ("a.rs", "c.rs")})

    def test_comments_strings_and_mod_declarations_are_not_edges(self):
        edges = self.edges(
            {
                "lib.rs": "mod a;\nmod b;\n",
                "a.rs": """\
                    //! See [`super::b::Thing`] and [`crate::b`].
                    /* crate::b::Thing /* nested */ crate::b::Thing */
                    const S: &str = "crate::b::Thing";
                    const R: &str = r#"use crate::b::Thing; "quoted""#;
                    const Q: char = '\\'';
                    fn f<'a>(x: &'a str) -> &'a str { x } // crate::b::x
                """,
                "b.rs": "pub struct Thing;\n",
            }
        )
        self.assertEqual(edges, set())

    def test_a_facade_re_export_points_at_the_defining_file(self):
        edges = self.edges(
            {
                "lib.rs": "pub mod kube;\nmod user;\n",
                "kube/mod.rs": """\
                    mod load;
                    mod snap;
                    mod all;
                    pub use load::{Report, read as read_file};
                    pub use self::snap::Snapshot;
                    pub use all::*;
                """,
                "kube/load.rs": "pub struct Report;\npub fn read() {}\n",
                "kube/snap.rs": "pub struct Snapshot;\n",
                "kube/all.rs": "pub fn everything() {}\n",
                "user.rs": """\
                    use crate::kube::{Report, Snapshot};
                    fn f() { crate::kube::read_file(); crate::kube::everything(); }
                """,
            }
        )
        self.assertEqual(
            edges,
            {
                ("user.rs", "kube/load.rs"),
                ("user.rs", "kube/snap.rs"),
                ("user.rs", "kube/all.rs"),
            },
        )

    def test_an_item_defined_in_mod_rs_is_an_edge_to_it(self):
        edges = self.edges(
            {
                "lib.rs": "mod cli;\n",
                "cli/mod.rs": "mod verb;\npub enum Output { Table }\nfn run() { verb::run(); }\n",
                "cli/verb.rs": "use super::Output;\npub fn run() {}\n",
            }
        )
        self.assertEqual(edges, {("cli/mod.rs", "cli/verb.rs"), ("cli/verb.rs", "cli/mod.rs")})

    def test_super_inside_an_inline_module_stays_in_the_file(self):
        edges = self.edges(
            {
                "lib.rs": "mod kube;\n",
                "kube/mod.rs": "mod a;\nmod b;\n",
                "kube/a.rs": """\
                    mod inner {
                        use super::helper;
                        fn f() { super::super::b::g(); }
                    }
                    fn helper() {}
                """,
                "kube/b.rs": "pub fn g() {}\n",
            }
        )
        self.assertEqual(edges, {("kube/a.rs", "kube/b.rs")})

    def test_super_super_from_a_nested_file(self):
        edges = self.edges(
            {
                "lib.rs": "mod kube;\n",
                "kube/mod.rs": "mod watch;\nmod locate;\n",
                "kube/watch.rs": "mod targets;\n",
                "kube/watch/targets.rs": "use super::super::locate::Sources;\n",
                "kube/locate.rs": "pub struct Sources;\n",
            }
        )
        self.assertEqual(edges, {("kube/watch/targets.rs", "kube/locate.rs")})

    def test_a_module_imported_by_name_is_followed_where_it_is_used(self):
        edges = self.edges(
            {
                "lib.rs": "mod cluster;\n",
                "cluster/mod.rs": "mod connect;\nmod tls;\nmod unused;\nmod other;\n",
                "cluster/connect.rs": """\
                    use super::tls;
                    use super::other;
                    fn f() { tls::server_name(); }
                """,
                "cluster/tls.rs": "pub fn server_name() {}\n",
                "cluster/other.rs": "",
                "cluster/unused.rs": "",
            }
        )
        # `other` is never used with a path: the import itself is the edge.
        self.assertEqual(edges, {("cluster/connect.rs", "cluster/tls.rs"), ("cluster/connect.rs", "cluster/other.rs")})

    def test_a_child_module_is_in_scope_by_name(self):
        edges = self.edges(
            {
                "lib.rs": "mod watch;\n",
                "watch.rs": "mod targets;\nuse targets::plan;\nfn f() { targets::files(); }\n",
                "watch/targets.rs": "pub fn plan() {}\npub fn files() {}\n",
            }
        )
        self.assertEqual(edges, {("watch.rs", "watch/targets.rs")})

    def test_test_code_counts_only_when_asked(self):
        files = {
            "lib.rs": "mod a;\nmod b;\n",
            "a.rs": "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::b::g;\n}\n",
            "b.rs": "pub fn g() {}\n#[cfg(test)]\nmod tests;\n",
            "b/tests.rs": "use crate::a::f;\n",
        }
        self.assertEqual(self.edges(files), set())
        self.assertEqual(self.edges(files, include_tests=True), {("a.rs", "b.rs"), ("b/tests.rs", "a.rs")})

    def test_bin_and_main_are_other_crates(self):
        crate = self.crate({"lib.rs": "", "main.rs": "", "bin/tool.rs": "use crate::x::Y;\n"})
        self.assertEqual(list(crate.files), [()])


class Cycles(CrateTest):
    def test_a_cycle_is_printed_with_its_edges_and_lines(self):
        status, out = self.report(
            {
                "lib.rs": "mod build;\nmod client;\nmod probe;\n",
                "build.rs": "use super::client::Client;\npub struct Env;\n",
                "client.rs": "pub struct Client;\nfn new(env: &super::build::Env) {}\n",
                "probe.rs": "use crate::client::Client;\n",
            }
        )
        self.assertEqual(status, 1)
        self.assertIn("cycle 1 (2 files): build.rs, client.rs", out)
        self.assertIn("  build.rs -> client.rs\n      build.rs:1: use super::client::Client;", out)
        self.assertIn("  client.rs -> build.rs\n      client.rs:2: fn new(env: &super::build::Env) {}", out)
        self.assertNotIn("probe.rs", out)

    def test_no_cycle_says_how_many_modules(self):
        status, out = self.report(
            {
                "lib.rs": "mod a;\nmod b;\n",
                "a.rs": "use crate::b::X;\n",
                "b.rs": "pub struct X;\n",
            }
        )
        self.assertEqual(status, 0)
        self.assertEqual(out, "no import cycles among 3 modules\n")

    def test_tarjan_finds_each_component_once(self):
        succ = {1: [2], 2: [3], 3: [1, 4], 4: [5], 5: [4], 6: [6]}
        components = sorted(sorted(c) for c in module_cycles.tarjan([1, 2, 3, 4, 5, 6], succ))
        self.assertEqual(components, [[1, 2, 3], [4, 5], [6]])


if __name__ == "__main__":
    unittest.main()
