"""EDGAR pages read with an HTML parser: markup that regular expressions misread.

Each page here is written for the test in the shapes EDGAR pages take (the recorded NVIDIA
pages are covered in test_sec_edgar.py): attributes in another order or unquoted,
upper-case tags, entities, tags nested in cells, closing tags left out.
"""

from __future__ import annotations

from dossier.collectors.sec_forms import item_502_text, parse_filing_index, people_in_502
from dossier.collectors.sec_pages import Cell, document_text, scan_index_page

DOC = "https://www.sec.gov/Archives/edgar/data/1/000000000126000001/doc.htm"

# -- filing index pages


def test_index_page_in_upper_case_with_unquoted_and_reordered_attributes() -> None:
    markup = """
    <DIV ID=g CLASS="formGrouping">
      <DIV CLASS=infoHead>Filing Date</DIV>
      <DIV data-x='1' CLASS='info'>2026-03-06</DIV>
      <DIV class="infoHead">Items</DIV>
      <DIV title="items" class="info wide">Item 5.02: Departure of Directors &amp; Officers<BR>
        Item 9.01: Financial Statements and Exhibits<BR/></DIV>
    </DIV>
    <TABLE CLASS=tableFile>
      <TR><TH>Seq</TH><TH>Description</TH><TH>Document</TH><TH>Type</TH><TH>Size</TH></TR>
      <TR><TD>1</TD><TD>8-K</TD>
        <TD><A TITLE="main" HREF='/ix?doc=/Archives/edgar/data/1/000000000126000001/doc.htm'
          >doc.htm</A></TD><TD>8-K</TD><TD>100</TD></TR>
    </TABLE>
    """
    index = parse_filing_index(markup)
    assert index.filed_on == "2026-03-06"
    assert index.items == [
        ("5.02", "Departure of Directors & Officers"),
        ("9.01", "Financial Statements and Exhibits"),
    ]
    assert index.primary_document == DOC


def test_index_rows_without_closing_tags_give_one_cell_per_td() -> None:
    markup = """<table>
      <tr><th>Seq<th>Description<th>Document<th>Type<th>Size
      <tr><td>1<td>Press release<td><a href="/Archives/ex99.htm">ex99.htm</a><td>EX-99.1<td>9
      <tr><td>2<td>Current report<td><a href="/Archives/edgar/data/1/000000000126000001/doc.htm"
        >doc.htm</a><td>8-K<td>100
    </table>"""
    rows = scan_index_page(markup).rows
    assert [len(row) for row in rows] == [5, 5, 5]
    assert rows[2][3] == Cell(header=False, text="8-K")
    assert parse_filing_index(markup).primary_document == DOC
    # cells outside any <tr> still make a row, as browsers read them
    assert scan_index_page("<table><td>a<td>b</table>").rows == [
        [Cell(False, "a"), Cell(False, "b")]
    ]


def test_index_cells_with_nested_tags_and_entities() -> None:
    markup = """<table><tr>
      <td scope="row">1</td>
      <td scope="row"><b>Current</b> report</td>
      <td scope="row"><span><a
        href="/ix?doc=/Archives/edgar/data/1/000000000126000001/doc.htm&amp;x=1"
        >doc.htm</a></span> &nbsp;&nbsp;<span style="color: green">iXBRL</span></td>
      <td scope="row">&nbsp;<b>8-<i>K</i></b>&nbsp;</td>
      <td scope="row">100</td>
    </tr></table>"""
    (row,) = scan_index_page(markup).rows
    assert row[1].text == "Current report"
    assert row[2].text == "doc.htm iXBRL"
    assert row[3].text == "8-K"
    # the entity in the href is one character, as a browser follows it
    assert parse_filing_index(markup).primary_document == DOC + "&x=1"


def test_index_picks_the_first_row_of_the_form_and_skips_rows_without_a_link() -> None:
    markup = """<table>
      <tr><td>1</td><td>8-K</td><td>no link here</td><td>8-K</td></tr>
      <tr><td>2</td><td>8-K</td><td><a href="/Archives/edgar/data/1/000000000126000001/doc.htm"
        >doc.htm</a></td><td>8-k</td></tr>
      <tr><td>3</td><td>8-K</td><td><a href="/Archives/o.htm">o.htm</a></td><td>8-K</td></tr>
    </table>"""
    assert parse_filing_index(markup).primary_document == DOC
    assert parse_filing_index(markup, form="10-K").primary_document is None


def test_index_cell_lines_stay_separate_words() -> None:
    (row,) = scan_index_page("<table><tr><td>8-K<br>amended<div>twice</div></td></tr></table>").rows
    assert row[0].text == "8-K amended twice"


def test_info_block_counts_only_right_after_its_heading() -> None:
    markup = """
      <div class="infoHead">Items</div><p>see below</p>
      <div class="info">Item 1.01: Entry into a Material Definitive Agreement</div>
      <div class="infoHead">Period of Report</div><img src="x.gif">
      <div class="info">2026-03-02</div>
      <div class="info">Item 2.02: Results of Operations</div>
      <div class="infoHead">Filing Date</div>
      <div class="info">2026-03-06</div>
      <div class="infoHead">Filing Date</div>
      <div class="info">1999-01-01</div>
    """
    page = scan_index_page(markup)
    assert "Items" not in page.info and "Period of Report" not in page.info
    assert set(page.info) == {"Filing Date"}
    assert page.info["Filing Date"] == ["2026-03-06"]  # a heading's first block counts


def test_info_block_with_nested_divs_and_tags_keeps_every_item() -> None:
    markup = """<div class="infoHead"><b>Items</b></div>
      <div class="info">Item 5.02: <b>Departure</b> of
        Directors<div class="note">amended</div>Item 9.01: Financial Statements<br></div>"""
    assert parse_filing_index(markup).items == [
        ("5.02", "Departure of Directors"),
        ("9.01", "Financial Statements"),
    ]


# -- filing documents


def test_unclosed_upper_case_paragraphs_are_lines() -> None:
    markup = (
        "<HTML><BODY><P ALIGN=center>Item 5.02 Departure of Directors or Certain Officers"
        "<P>On May 1, 2026, Jane Q. Doe resigned as Chief Financial Officer."
        "<P>Item 9.01 Financial Statements and Exhibits</BODY></HTML>"
    )
    text = item_502_text(markup)
    assert text == "On May 1, 2026, Jane Q. Doe resigned as Chief Financial Officer."
    assert [(p.name, p.change) for p in people_in_502(text)] == [("Jane Q. Doe", "departed")]


def test_names_and_titles_in_nested_cells_are_separate_lines() -> None:
    markup = """<div>Item 5.02 Compensatory Arrangements</div>
      <table>
        <tr><td style="x"/><td><span><b>Jane</b> Q. Doe</span></td>
            <td><i>Chief</i> Financial&#160;Officer</td></tr>
        <tr><td><span>John Smith</span></td><td><span>President</span></td></tr>
      </table>
      <div>Item 9.01 Exhibits</div>"""
    text = item_502_text(markup)
    assert text.splitlines() == [
        "Jane Q. Doe",
        "Chief Financial Officer",
        "John Smith",
        "President",
    ]
    assert [(p.name, p.title) for p in people_in_502(text)] == [
        ("Jane Q. Doe", "Chief Financial Officer"),
        ("John Smith", "President"),
    ]


def test_entities_are_text_once() -> None:
    markup = "<p>Mr. Doe&#8217;s&nbsp;term &amp; pay; &lt;b&gt; is text, not a tag</p>"
    assert document_text(markup) == "Mr. Doe’s term & pay; <b> is text, not a tag"


def test_scripts_styles_and_comments_are_not_text() -> None:
    markup = """<html><head><style>p::before { content: "Item 5.02" }</style>
      <script>var heading = "<p>Item 5.02 Fake</p>";</script></head>
      <body><!-- Item 5.02 draft > do not publish -->
      <p>Item 8.01 Other Events</p><p>Nothing about officers.</p></body></html>"""
    assert document_text(markup) == "Item 8.01 Other Events\nNothing about officers."
    assert item_502_text(markup) == ""


def test_a_less_than_sign_that_opens_no_tag_is_text() -> None:
    markup = "<p>Item 5.02 Departure</p><p>Pay rises <5% for officers >60.</p><p>Item 9.01</p>"
    assert item_502_text(markup) == "Pay rises <5% for officers >60."


def test_broken_markup_keeps_the_text_before_it() -> None:
    # html.parser gives up on an unknown marked section; it must not raise
    assert document_text("<p>Item 5.02 Departure</p><p>kept</p><![zzz[ lost ]]><p>x</p>") == (
        "Item 5.02 Departure\nkept"
    )
    assert scan_index_page("<table><tr><td>1</td><![zzz[").rows == [[Cell(False, "1")]]
