//! A small, strict XML reader for the JUnit files sweeps write.

/// A small, strict XML reader: enough to prove a JUnit file well-formed (one root, nested tags
/// that close in order, quoted attributes, known entities only) and to read it back.
#[derive(Debug)]
pub struct Xml {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub kids: Vec<Xml>,
    pub text: String,
}

impl Xml {
    pub fn parse(src: &str) -> Xml {
        let mut rest = src.trim_start();
        if let Some(decl) = rest.strip_prefix("<?xml") {
            rest = &decl[decl.find("?>").expect("declaration closes") + 2..];
        }
        let (root, tail) = Xml::element(rest.trim_start());
        assert!(tail.trim().is_empty(), "content after the root: {tail:?}");
        root
    }

    /// Parses one element at the start of `s`; returns it and what follows.
    fn element(s: &str) -> (Xml, &str) {
        let s = s.strip_prefix('<').expect("an element starts with <");
        let end = s
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap();
        let name = s[..end].to_string();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-'),
            "bad name {name:?}"
        );
        let mut s = &s[end..];
        let mut attrs = Vec::new();
        loop {
            s = s.trim_start();
            if let Some(r) = s.strip_prefix("/>") {
                return (
                    Xml {
                        name,
                        attrs,
                        kids: Vec::new(),
                        text: String::new(),
                    },
                    r,
                );
            }
            if let Some(r) = s.strip_prefix('>') {
                s = r;
                break;
            }
            let eq = s.find('=').expect("attribute has =");
            let key = s[..eq].trim().to_string();
            assert!(
                attrs.iter().all(|(k, _)| *k != key),
                "duplicate attribute {key}"
            );
            let r = s[eq + 1..]
                .strip_prefix('"')
                .expect("attribute value is quoted");
            let close = r.find('"').unwrap();
            assert!(!r[..close].contains('<'), "raw < in an attribute");
            attrs.push((key, unescape(&r[..close])));
            s = &r[close + 1..];
        }
        let mut kids = Vec::new();
        let mut text = String::new();
        loop {
            let lt = s.find('<').expect("element closes");
            text.push_str(&unescape(&s[..lt]));
            s = &s[lt..];
            if let Some(r) = s.strip_prefix("</") {
                let gt = r.find('>').unwrap();
                assert_eq!(&r[..gt], name, "tags close in order");
                return (
                    Xml {
                        name,
                        attrs,
                        kids,
                        text,
                    },
                    &r[gt + 1..],
                );
            }
            let (kid, r) = Xml::element(s);
            kids.push(kid);
            s = r;
        }
    }

    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn children(&self, name: &str) -> Vec<&Xml> {
        self.kids.iter().filter(|k| k.name == name).collect()
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let semi = rest[i..].find(';').expect("entity ends with ;") + i;
        let entity = &rest[i + 1..semi];
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with('#') => {
                char::from_u32(e[1..].parse().expect("decimal reference")).unwrap()
            }
            e => panic!("unknown entity &{e};"),
        });
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}
