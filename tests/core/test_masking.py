import logging

from yiwang.core.masking import MaskingLogFilter, mask_address, mask_id_number, mask_phone, mask_text


def test_id_number_shows_first_four_and_last_four():
    assert mask_id_number("360302199001011234") == "3603**********1234"


def test_phone_and_landline():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("07996881234") == "0799*****34"


def test_address_kept_down_to_the_town():
    address = "江西省萍乡市安源区八一街街道跃进社区跃进路12号3栋201室"
    assert mask_address(address) == "江西省萍乡市安源区八一街街道****"
    assert mask_address("江西省萍乡市芦溪县宣风镇竹垣村5组18号") == "江西省萍乡市芦溪县宣风镇****"
    assert "201" not in mask_address(address)


def test_free_text_and_logs_are_masked():
    text = "来电人 13812345678，身份证 36030219900101123X，反映问题"
    assert mask_text(text) == "来电人 138****5678，身份证 3603**********123X，反映问题"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "caller %s id %s", ("13812345678", "36030219900101123X"), None
    )
    MaskingLogFilter().filter(record)
    assert record.getMessage() == "caller 138****5678 id 3603**********123X"
