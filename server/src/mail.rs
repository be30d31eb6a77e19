//! The issuance mail: what the administrator's preparation sends the user.

use time::OffsetDateTime;
use webra2_wire::{in_jst, Kind};

/// The subject and body of an issuance mail. Carries the user id and the
/// one-time URL, never the password.
pub fn compose(
    kind: Kind,
    user_id: &str,
    url: &str,
    url_expires_at: OffsetDateTime,
    renews_serial: Option<&str>,
) -> (String, String) {
    let site = match kind {
        Kind::New => webra2_wire::SITE_TITLE_NEW,
        Kind::Renew => webra2_wire::SITE_TITLE_RENEW,
    };
    let what = match kind {
        Kind::New => "クライアント証明書の発行",
        Kind::Renew => "クライアント証明書の更新",
    };
    let subject = format!("【{site}】{what}のご案内 ({user_id})");
    let expires = in_jst(url_expires_at);
    let renews = renews_serial
        .map(|s| format!("更新対象の証明書シリアル番号: {s}\n"))
        .unwrap_or_default();
    let body = format!(
        "{user_id} 様\n\n\
         {what}の準備ができました。\n\
         下記の URL にアクセスし、別途お知らせした認証情報パスワードを入力して、\n\
         {what}を行ってください。\n\n\
         ユーザーID: {user_id}\n\
         {renews}\
         URL: {url}\n\
         有効期限: {:04}/{:02}/{:02} {:02}:{:02}\n\n\
         ・この URL は一度だけ使用できます。\n\
         ・ルートCA証明書をインストールする際は、拇印(SHA-1)がマニュアル記載の値と一致することを確認してください。\n\
         ・発行ボタンは一度だけ押してください。\n\
         ・PINを忘れた場合は、管理者に証明書の破棄と再発行を依頼してください。\n\n\
         ※このメールは webra2-mock (テスト用の模擬認証局) が送信しました。\n",
        expires.year(),
        u8::from(expires.month()),
        expires.day(),
        expires.hour(),
        expires.minute(),
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_mail_carries_the_user_and_the_url_in_japanese() {
        let (subject, body) = compose(
            Kind::New,
            "U0001",
            "http://x/issue/TOKEN",
            datetime!(2026-12-25 00:00 UTC),
            None,
        );
        assert!(subject.contains("証明書発行サイト") && subject.contains("U0001"));
        assert!(body.contains("http://x/issue/TOKEN"));
        assert!(body.contains("ユーザーID: U0001"));
        assert!(
            body.contains("2026/12/25 09:00"),
            "expiry shown in JST: {body}"
        );
    }

    #[test]
    fn a_renewal_mail_names_the_serial_it_renews() {
        let (subject, body) = compose(
            Kind::Renew,
            "U0001",
            "http://x/issue/T",
            datetime!(2026-12-25 00:00 UTC),
            Some("0ABC"),
        );
        assert!(subject.contains("証明書更新サイト"));
        assert!(body.contains("0ABC"));
    }
}
