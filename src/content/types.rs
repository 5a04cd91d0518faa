//! Values of content: Markdown rendered to safe HTML, and a web link.

use pulldown_cmark::{html, Options, Parser};

use crate::error::{AppError, AppResult};

/// Markdown (CommonMark with tables, strikethrough and task lists) as HTML that is safe to put
/// in a page: ammonia keeps an allow-list of tags and attributes, drops every script, style and
/// event handler, allows only http, https and mailto links, and marks links `noopener noreferrer`.
pub fn render_markdown(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .clean(&unsafe_html)
        .to_string()
}

/// An absolute http(s) link of at most 500 characters.
pub fn web_link(field: &str, raw: &str) -> AppResult<String> {
    let text = crate::input::required(field, raw, 500)?;
    match url::Url::parse(&text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(text),
        _ => Err(AppError::bad_input(
            field,
            "Use a full web address starting with https://.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_its_formatting() {
        let html = render_markdown("# Terms\n\nWe **care**. See [us](https://example.com).");
        assert!(html.contains("<h1>Terms</h1>"), "{html}");
        assert!(html.contains("<strong>care</strong>"), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render_markdown(
            "<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n\
             [click](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">x</a>\n\n\
             <div style=\"x\" onclick=\"alert(5)\">hi</div>",
        );
        let lower = html.to_lowercase();
        for bad in ["<script", "onerror", "onclick", "javascript:", "alert(1)"] {
            assert!(!lower.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("hi"), "{html}");
    }

    #[test]
    fn links_are_web_addresses() {
        assert!(web_link("website", "https://example.com/x").is_ok());
        assert!(web_link("website", "javascript:alert(1)").is_err());
        assert!(web_link("website", "example.com").is_err());
    }
}
