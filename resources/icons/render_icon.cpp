// render_icon IN.svg SIZE OUT.png: the SVG icon rendered as a SIZE x SIZE PNG, for the hicolor
// theme's fixed sizes (desktops without SVG icon support use them; the icon theme spec asks for
// at least 48x48). Run at build time by cmake/Packaging.cmake.

#include <QImage>
#include <QPainter>
#include <QSvgRenderer>

#include <cstdio>

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: render_icon IN.svg SIZE OUT.png\n");
        return 2;
    }
    QSvgRenderer renderer(QString::fromLocal8Bit(argv[1]));
    bool sizeOk = false;
    const int size = QString::fromLatin1(argv[2]).toInt(&sizeOk);
    if (!renderer.isValid() || !sizeOk || size <= 0 || size > 1024) {
        std::fprintf(stderr, "render_icon: cannot render %s at size %s\n", argv[1], argv[2]);
        return 2;
    }
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    renderer.render(&painter);
    painter.end();
    if (!image.save(QString::fromLocal8Bit(argv[3]), "PNG")) {
        std::fprintf(stderr, "render_icon: cannot write %s\n", argv[3]);
        return 2;
    }
    return 0;
}
