//! The Cyberduck bookmark (`.duck`): an XML property list without credentials.

use plist::{Dictionary, Value};

/// What a bookmark points at.
pub struct Bookmark<'a> {
    /// `s3.amazonaws.com`, or the host of the account's custom endpoint.
    pub hostname: &'a str,
    pub port: u16,
    /// The org, shown first in the bookmark's nickname.
    pub org: &'a str,
    pub bucket: &'a str,
    /// A prefix inside the bucket, without outer slashes.
    pub path: Option<&'a str>,
}

impl Bookmark<'_> {
    /// The plist document, keys in the order Cyberduck writes them.
    pub fn to_xml(&self) -> Vec<u8> {
        let name = match self.path {
            Some(p) => format!("{}/{p}", self.bucket),
            None => self.bucket.to_string(),
        };
        let mut d = Dictionary::new();
        d.insert("Hostname".into(), Value::String(self.hostname.into()));
        d.insert(
            "Nickname".into(),
            Value::String(format!("{} - {name}", self.org)),
        );
        d.insert("Path".into(), Value::String(format!("/{name}")));
        d.insert("Port".into(), Value::String(self.port.to_string()));
        d.insert("Protocol".into(), Value::String("s3".into()));
        d.insert("Provider".into(), Value::String("iterate GmbH".into()));
        d.insert(
            "Web URL".into(),
            Value::String(format!("s3://{}/", self.bucket)),
        );
        d.insert(
            "UUID".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        let mut out = Vec::new();
        plist::to_writer_xml(&mut out, &Value::Dictionary(d))
            .expect("writing to a Vec cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_orders_keys() {
        let xml = Bookmark {
            hostname: "s3.amazonaws.com",
            port: 443,
            org: "A&B <org>",
            bucket: "bkt",
            path: Some("team/x"),
        }
        .to_xml();
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(text.contains("A&amp;B &lt;org&gt; - bkt/team/x"), "{text}");
        let keys: Vec<usize> = [
            "Hostname", "Nickname", "Path", "Port", "Protocol", "Provider", "Web URL", "UUID",
        ]
        .iter()
        .map(|k| text.find(&format!("<key>{k}</key>")).unwrap())
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
        let parsed: Value = plist::from_bytes(&xml).unwrap();
        let d = parsed.as_dictionary().unwrap();
        assert_eq!(d.get("Port").unwrap().as_string(), Some("443"));
        assert_eq!(d.get("Path").unwrap().as_string(), Some("/bkt/team/x"));
    }
}
